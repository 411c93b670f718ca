// Duplicate warnings while a lead is typed: after a pause in typing a phone, an e-mail, a name
// or a company, ask the server what matches and list it above the form. Progressive
// enhancement: without this script the server shows the same warnings after "save".
(function () {
  "use strict";
  var form = document.querySelector("form[data-duplicate-check]");
  if (!form || !window.fetch) { return; }
  var box = document.getElementById("duplicate-live");
  var ack = form.querySelector("input[name=dup_ack]");
  var names = ["phone", "email", "name", "company"];
  var timer = null;
  var asked = "";

  function value(name) {
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.value.trim() : "";
  }

  function show(answer) {
    while (box.firstChild) { box.removeChild(box.firstChild); }
    var items = answer.items || [];
    var strong = items.some(function (item) { return item.strong; });
    if (ack) { ack.value = strong ? "1" : ""; }
    box.hidden = items.length === 0;
    if (items.length === 0) { return; }
    var title = document.createElement("strong");
    title.textContent = answer.title;
    box.appendChild(title);
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li");
      if (!item.strong) { li.className = "weak"; }
      if (item.url) {
        var link = document.createElement("a");
        link.href = item.url;
        link.textContent = item.text;
        li.appendChild(link);
      } else {
        li.textContent = item.text;
      }
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function check() {
    var params = new URLSearchParams();
    names.forEach(function (name) { params.set(name, value(name)); });
    params.set("except", form.getAttribute("data-lead-id") || "");
    var query = params.toString();
    if (query === asked) { return; }
    asked = query;
    fetch(form.getAttribute("data-duplicate-check") + "?" + query, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && query === asked) { show(answer); } })
      .catch(function () { /* the save checks again */ });
  }

  names.forEach(function (name) {
    var input = form.querySelector("[name=" + name + "]");
    if (!input) { return; }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 350);
    });
  });
  // After a save that showed the server's warnings, they are on the page already.
  if (!document.getElementById("duplicate-warnings")) { check(); }
})();
