/* Type-ahead pickers (progressive enhancement).
 *
 * Upgrades <input data-picker="/taxonomy/rights" [data-multiple] [data-selected='[...]']
 * [data-param-x="..."]> -- a text field of codes separated by ";" that works without JS --
 * into a combobox with a listbox of suggestions fetched from our own JSON endpoint
 * ({items: [{code, label, detail}]}). The original input becomes hidden and keeps carrying
 * the codes, so the server sees the same form either way and validates it.
 * Keyboard: Down/Up move, Enter chooses, Escape closes (then clears), Backspace on an empty
 * box removes the last choice. ARIA 1.2 combobox pattern.
 * Mouse, pen and touch: an option is chosen on click (primary button only; pressing and
 * sliding off cancels). A press anywhere in the list keeps focus in the box (mousedown's
 * default prevented), and while a press is in progress the box's blur does not close the
 * list, so the click that follows still lands on the option in browsers that move focus
 * on press anyway; the list's scrollbar can be dragged.
 */
(function () {
  "use strict";

  var counter = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function upgrade(input) {
    if (input.getAttribute("data-picker-ready")) return;
    input.setAttribute("data-picker-ready", "1");
    counter += 1;
    var multiple = input.hasAttribute("data-multiple");
    var source = input.getAttribute("data-picker");
    var removeLabel = input.getAttribute("data-remove-label") || "Remove";
    var noneLabel = input.getAttribute("data-none-label") || "No match";
    var selected = [];
    try {
      selected = JSON.parse(input.getAttribute("data-selected") || "[]");
    } catch (e) {
      selected = [];
    }
    if (!selected.length && input.value.trim()) {
      selected = input.value.split(/[;,\s]+/).filter(Boolean).map(function (c) {
        return { code: c, label: c };
      });
    }

    var wrap = el("div", "picker" + (multiple ? " picker-multiple" : ""));
    var chips = el("ul", "picker-chips");
    var box = el("input", "picker-input");
    var listId = "picker-list-" + counter;
    var list = el("ul", "picker-list");
    var status = el("p", "picker-status visually-hidden");

    box.type = "text";
    box.id = input.id;
    input.id = input.id + "-value";
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-controls", listId);
    box.setAttribute("autocomplete", "off");
    box.setAttribute("placeholder", input.getAttribute("data-placeholder") || "");
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (input.hasAttribute(name)) box.setAttribute(name, input.getAttribute(name));
    });
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    chips.setAttribute("aria-label", input.getAttribute("data-chosen-label") || "Chosen");

    input.type = "hidden";
    input.parentNode.insertBefore(wrap, input.nextSibling);
    wrap.appendChild(chips);
    wrap.appendChild(box);
    wrap.appendChild(list);
    wrap.appendChild(status);

    var items = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var pressing = false; // a pointer went down in the list and is not up yet

    function sync() {
      input.value = selected.map(function (s) { return s.code; }).join("; ");
      chips.textContent = "";
      selected.forEach(function (item, index) {
        var chip = el("li", "picker-chip");
        chip.appendChild(el("span", "", item.label));
        if (item.label !== item.code) chip.appendChild(el("small", "", " " + item.code));
        var remove = el("button", "picker-remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", removeLabel + " " + item.label);
        remove.addEventListener("click", function () {
          selected.splice(index, 1);
          sync();
          box.focus();
        });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
      chips.hidden = !selected.length;
    }

    function close() {
      // A pending or in-flight search must not reopen the list after it was closed.
      clearTimeout(timer);
      if (controller) controller.abort();
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) return;
      active = (index + options.length) % options.length;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      box.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var item = items[index];
      if (!item) return;
      if (multiple) {
        if (!selected.some(function (s) { return s.code === item.code; })) {
          selected.push({ code: item.code, label: item.label });
        }
      } else {
        selected = [{ code: item.code, label: item.label }];
      }
      box.value = "";
      sync();
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function render() {
      list.textContent = "";
      active = -1;
      if (!items.length) {
        var empty = el("li", "picker-empty", noneLabel);
        empty.setAttribute("aria-disabled", "true");
        list.appendChild(empty);
      }
      items.forEach(function (item, index) {
        var option = el("li", "picker-option");
        option.id = listId + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(el("span", "picker-label", item.label));
        if (item.detail) option.appendChild(el("span", "picker-detail", item.detail));
        option.addEventListener("click", function () { choose(index); });
        list.appendChild(option);
      });
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
      status.textContent = items.length ? items.length + " \u2193" : noneLabel;
    }

    function query() {
      var params = new URLSearchParams({ q: box.value.trim() });
      Object.keys(input.dataset).forEach(function (key) {
        if (key.indexOf("param") === 0 && key.length > 5 && input.dataset[key]) {
          var name = key.slice(5).toLowerCase();
          params.set(name, input.dataset[key]);
        }
      });
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(source + "?" + params.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      })
        .then(function (response) { return response.ok ? response.json() : { items: [] }; })
        .then(function (data) {
          items = (data && data.items) || [];
          if (document.activeElement === box) render();
        })
        .catch(function () { /* aborted or offline: keep the plain field working */ });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(query, 150);
    });
    box.addEventListener("focus", function () {
      if (!box.value && list.hidden) {
        clearTimeout(timer);
        timer = setTimeout(query, 150);
      }
    });
    box.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!open) { query(); } else { highlight(active + 1); }
          break;
        case "ArrowUp":
          event.preventDefault();
          if (open) highlight(active - 1);
          break;
        case "Enter":
          if (open && items.length) {
            event.preventDefault();
            choose(active >= 0 ? active : 0);
          } else if (box.value.trim()) {
            event.preventDefault(); // do not submit half-typed text
          }
          break;
        case "Escape":
          if (open) { event.preventDefault(); close(); }
          else if (box.value) { event.preventDefault(); box.value = ""; }
          break;
        case "Backspace":
          if (!box.value && selected.length && multiple) {
            selected.pop();
            sync();
          }
          break;
        case "Tab":
          close();
          break;
      }
    });
    // Keep focus in the box for any press in the list: options, the "no match" row, the
    // scrollbar (else the blur below would close the list under the pointer).
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("pointerdown", function () { pressing = true; });
    function released() {
      // After the click this release produces has been handled: if focus left the box
      // meanwhile and nothing was chosen (slid off the option), close now.
      setTimeout(function () {
        if (!pressing) return;
        pressing = false;
        if (document.activeElement !== box) close();
      }, 0);
    }
    document.addEventListener("pointerup", released);
    document.addEventListener("pointercancel", released);
    box.addEventListener("blur", function () {
      setTimeout(function () {
        // Not while the list is being pressed, nor if focus has come back to the box.
        if (!pressing && document.activeElement !== box) close();
      }, 100);
    });

    sync();
  }

  function init(root) {
    var inputs = (root || document).querySelectorAll("input[data-picker]");
    for (var i = 0; i < inputs.length; i++) upgrade(inputs[i]);
  }

  window.TrackerPicker = { init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
})();
