// Drag and drop on the pipeline board, as a shortcut for the forms on each card: dropping a
// card on an open stage submits the card's own "move" form; dropping it on a won or lost stage
// opens the confirmation that asks for the reason. Without this script the forms do it all.
(function () {
  "use strict";
  var cards = document.querySelectorAll(".deal[data-deal]");
  if (!cards.length || !("draggable" in document.createElement("span"))) { return; }
  var hint = document.getElementById("board-hint");
  if (hint) { hint.hidden = false; }
  var dragged = null;

  Array.prototype.forEach.call(cards, function (card) {
    card.draggable = true;
    // Dragging by the deal's name moves the card, not the link to the deal.
    Array.prototype.forEach.call(card.querySelectorAll("a"), function (link) { link.draggable = false; });
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    });
    card.addEventListener("dragend", function () {
      card.classList.remove("dragging");
      dragged = null;
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll(".column[data-stage]"), function (column) {
    column.addEventListener("dragover", function (event) {
      if (!dragged) { return; }
      event.preventDefault();
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", function () { column.classList.remove("drop-target"); });
    column.addEventListener("drop", function (event) {
      event.preventDefault();
      column.classList.remove("drop-target");
      var card = dragged;
      if (!card || column.contains(card)) { return; }
      var id = card.getAttribute("data-deal");
      var kind = column.getAttribute("data-kind");
      if (kind === "won" || kind === "lost") {
        window.location.href = "/board/" + id + "/close?result=" + kind;
        return;
      }
      var form = card.querySelector("form.move-form");
      var select = form && form.querySelector("select[name=stage]");
      if (!select) { return; }
      select.value = column.getAttribute("data-stage");
      if (select.value !== column.getAttribute("data-stage")) { return; }
      form.submit();
    });
  });
})();
