// Pilotage dashboard: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var held = document.getElementById("held");
  var started = Date.now();

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
  }

  function click(id) {
    var button = document.getElementById(id);
    if (button) button.click();
  }

  function focus(id) {
    var field = document.getElementById(id);
    if (field) { field.focus(); if (field.select) field.select(); }
  }

  function step(delta) {
    var links = Array.prototype.slice.call(document.querySelectorAll(".queue-list a[data-item]"));
    var index = links.findIndex(function (a) { return a.getAttribute("aria-current") === "true"; });
    var next = links[index + delta];
    if (next) window.location.href = next.href;
  }

  // Time spent on the item: from page load to submit, sent with the review.
  if (form) {
    form.addEventListener("submit", function () {
      var field = form.querySelector("[data-elapsed]");
      if (field) field.value = ((Date.now() - started) / 1000).toFixed(1);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey && event.key === "Enter" && typing(event.target)) {
      var id = event.target.id;
      if (id === "final-text") { event.preventDefault(); click("edit"); }
      else if (id === "review-reason") { event.preventDefault(); click("reject"); }
      else if (id === "escalated-to") { event.preventDefault(); click("escalate"); }
      else if (id === "held-reason") { event.preventDefault(); click("reject-held"); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (!form && !held) return;
    var key = event.key.toLowerCase();
    if (key === "j") { step(1); return; }
    if (key === "k") { step(-1); return; }
    if (held) {
      if (key === "a") { event.preventDefault(); click("release"); }
      else if (key === "r") { event.preventDefault(); focus("held-reason"); }
      return;
    }
    if (key === "a") { event.preventDefault(); click("accept"); }
    else if (key === "e") { event.preventDefault(); focus("final-text"); }
    else if (key === "r") { event.preventDefault(); focus("review-reason"); }
    else if (key === "x") { event.preventDefault(); focus("escalated-to"); }
  });
})();
