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
