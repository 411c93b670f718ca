// Small additions to the settings pages, each doing what a button does without script.
//
// Dragging assignment rules into a new order: an addition to the Up and Down buttons, which
// do the same without script. A drop fills the hidden reorder form with the ids in their new
// order and sends it, so the server (and its checks) decide, as for any other form.
(function () {
  "use strict";
  var list = document.getElementById("rules");
  var form = document.getElementById("reorder-form");
  if (!list || !form) {
    return;
  }
  var dragged = null;
  var items = function () {
    return Array.prototype.slice.call(list.querySelectorAll("li[data-rule-id]"));
  };
  items().forEach(function (item) {
    item.setAttribute("draggable", "true");
    item.classList.add("draggable");
    item.addEventListener("dragstart", function (event) {
      dragged = item;
      item.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.getAttribute("data-rule-id"));
    });
    item.addEventListener("dragend", function () {
      item.classList.remove("dragging");
      dragged = null;
    });
    item.addEventListener("dragover", function (event) {
      if (!dragged || dragged === item) {
        return;
      }
      event.preventDefault();
      var box = item.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? item.nextSibling : item);
    });
    item.addEventListener("drop", function (event) {
      event.preventDefault();
      form.elements.rule_ids.value = items()
        .map(function (li) { return li.getAttribute("data-rule-id"); })
        .join(",");
      form.submit();
    });
  });
})();

// A web form's auto-reply previewed while it is typed: the form is posted to the preview
// button's address (which saves nothing) a moment after the last key, and the preview and the
// auto-reply fields' messages of the answer replace those on the page.
(function () {
  "use strict";
  var button = document.getElementById("preview-auto-reply");
  var preview = document.getElementById("auto-reply-preview");
  var fieldset = document.getElementById("auto-reply");
  if (!button || !preview || !fieldset || !window.fetch || !window.DOMParser) {
    return;
  }
  var form = button.form;
  var timer = null;
  var asked = 0;
  var refresh = function () {
    var mine = ++asked;
    fetch(button.getAttribute("formaction"), {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin"
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (mine !== asked) {
        return;
      }
      var page = new DOMParser().parseFromString(html, "text/html");
      var answer = page.getElementById("auto-reply");
      if (!answer) {
        return;
      }
      fieldset.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      fieldset.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      answer.querySelectorAll(".error").forEach(function (error) {
        var field = error.parentNode.querySelector("input, textarea");
        var here = field && document.getElementById(field.id);
        if (here) {
          here.parentNode.classList.add("has-error");
          here.parentNode.appendChild(error);
        } else if (error.id === "error-auto_reply") {
          document.getElementById("field-auto_reply-enabled").parentNode.after(error);
        }
      });
      var fresh = page.getElementById("auto-reply-preview");
      if (fresh) {
        preview.innerHTML = fresh.innerHTML;
      }
    }).catch(function () {});
  };
  fieldset.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();
