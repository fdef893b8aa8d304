/* Small behaviours of the cases pages; everything works without them. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    // Sort and per-facet selects submit their form on change; the button stays for no-JS.
    var selects = document.querySelectorAll("select[data-autosubmit]");
    for (var i = 0; i < selects.length; i++) {
      var select = selects[i];
      var button = select.form && select.form.querySelector("[data-autosubmit-button]");
      if (button) button.hidden = true;
      select.addEventListener("change", function (event) { event.target.form.submit(); });
    }

    // On narrow screens the filter panel and facets start folded, so results come first.
    if (window.matchMedia && window.matchMedia("(max-width: 900px)").matches) {
      var panels = document.querySelectorAll("details[data-collapse-narrow]");
      for (var j = 0; j < panels.length; j++) {
        if (!panels[j].querySelector(".has-error")) panels[j].open = false;
      }
    }

    // Move focus to the error summary or conflict notice, so screen readers hear it first.
    var summary = document.querySelector(".error-summary, .conflict");
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }

    // A deadline box toggles the reminder date field.
    var deadline = document.getElementById("event-is_deadline");
    var remind = document.getElementById("event-remind_on");
    if (deadline && remind) {
      var field = remind.closest(".field");
      var toggle = function () { if (field) field.hidden = !deadline.checked; };
      deadline.addEventListener("change", toggle);
      toggle();
    }
  });
})();
