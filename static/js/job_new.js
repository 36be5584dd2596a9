/* LoveLoveShot — new job form: drop zones with previews, client-side pre-checks, busy submit.
 * Works as progressive enhancement: without JS the form is a plain multipart POST.
 * Every user-facing sentence comes from data- attributes rendered (and translated) by the template. */
(function () {
  "use strict";

  var form = document.getElementById("job-form");
  if (!form) return;

  var MIN = parseInt(form.dataset.min, 10) || 1;
  var MAX = parseInt(form.dataset.max, 10) || 1;
  var MAX_BYTES = parseInt(form.dataset.maxBytes, 10) || 15 * 1024 * 1024;
  var OK_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];
  var OK_EXT = /\.(jpe?g|png|webp|heic|heif)$/i;
  var canSetFiles = typeof DataTransfer === "function";

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : m;
    });
  }

  function isImage(file) {
    if (file.type) return OK_TYPES.indexOf(file.type.toLowerCase()) !== -1;
    return OK_EXT.test(file.name || ""); // HEIC often comes with an empty type
  }

  // The browser validates natively only when JS is off; with JS we show our own sentences.
  form.noValidate = true;

  var alertBox = document.getElementById("form-alert");
  var submit = document.getElementById("submit-job");

  function setClientError(container, message) {
    var slot = container && container.querySelector("[data-client-error]");
    if (!slot) return;
    slot.textContent = message || "";
    slot.hidden = !message;
  }

  /* ---------------- drop zones ---------------- */
  var people = [];

  Array.prototype.forEach.call(form.querySelectorAll(".person[data-person]"), function (root) {
    var input = root.querySelector("input[type=file]");
    var zone = root.querySelector("[data-dropzone]");
    var list = root.querySelector("[data-previews]");
    var tally = root.querySelector("[data-tally]");
    var errors = root.querySelector(".field-errors");
    var person = { root: root, input: input, files: [], errors: errors };
    people.push(person);

    function sync() {
      if (canSetFiles) {
        var dt = new DataTransfer();
        person.files.forEach(function (f) { dt.items.add(f); });
        input.files = dt.files;
      }
      render();
    }

    function render() {
      Array.prototype.forEach.call(list.querySelectorAll("img[data-url]"), function (img) {
        URL.revokeObjectURL(img.dataset.url);
      });
      list.innerHTML = "";
      person.files.forEach(function (file, index) {
        var li = document.createElement("li");
        li.className = "preview";
        var img = document.createElement("img");
        var url = URL.createObjectURL(file);
        img.src = url;
        img.dataset.url = url;
        img.alt = file.name;
        img.onerror = function () {
          // e.g. HEIC, which most browsers cannot show: keep a tidy placeholder with the name.
          li.classList.add("preview-noimg");
          img.remove();
          var name = document.createElement("span");
          name.className = "preview-name";
          name.textContent = file.name;
          li.insertBefore(name, li.firstChild);
        };
        li.appendChild(img);
        if (canSetFiles) {
          var btn = document.createElement("button");
          btn.type = "button";
          btn.className = "preview-remove";
          btn.setAttribute("aria-label", form.dataset.labelRemove + " — " + file.name);
          btn.title = form.dataset.labelRemove;
          btn.textContent = "×";
          btn.addEventListener("click", function () {
            person.files.splice(index, 1);
            setClientError(errors, "");
            sync();
            input.focus();
          });
          li.appendChild(btn);
        }
        list.appendChild(li);
      });
      var n = person.files.length;
      tally.textContent = n + " / " + MAX;
      root.classList.toggle("is-complete", n >= MIN && n <= MAX);
      root.classList.toggle("has-files", n > 0);
      zone.classList.toggle("is-compact", n >= MAX);
    }

    function add(fileList) {
      var incoming = Array.prototype.slice.call(fileList || []);
      var problems = [];
      var accepted = [];
      incoming.forEach(function (file) {
        if (!isImage(file)) {
          problems.push(fmt(form.dataset.msgType, { name: file.name }));
        } else if (file.size > MAX_BYTES) {
          problems.push(fmt(form.dataset.msgSize, { name: file.name }));
        } else {
          accepted.push(file);
        }
      });
      if (MAX === 1) {
        // Standard plan: a new pick replaces the current photo.
        if (accepted.length) person.files = [accepted[accepted.length - 1]];
        if (accepted.length > 1) problems.push(form.dataset.msgTooMany);
      } else {
        accepted.forEach(function (file) {
          var dup = person.files.some(function (f) {
            return f.name === file.name && f.size === file.size && f.lastModified === file.lastModified;
          });
          if (dup) return;
          if (person.files.length < MAX) person.files.push(file);
          else if (problems.indexOf(form.dataset.msgTooMany) === -1) {
            problems.push(form.dataset.msgTooMany);
          }
        });
      }
      setClientError(errors, problems.join(" "));
      root.classList.toggle("has-error", problems.length > 0);
      sync();
    }

    input.addEventListener("change", function () {
      if (!canSetFiles) {
        // Old browsers: we cannot merge picks, so mirror what the input holds.
        person.files = Array.prototype.slice.call(input.files || []);
        render();
        return;
      }
      add(input.files);
    });

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        if (event.target === zone || !zone.contains(event.relatedTarget)) zone.classList.remove("is-dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("is-dragover");
      if (event.dataTransfer && event.dataTransfer.files) add(event.dataTransfer.files);
    });

    // Files already in the input (e.g. restored by the browser on back navigation).
    if (input.files && input.files.length) add(input.files);
    else render();
  });

  // A file dropped outside a zone must not navigate away from the form.
  window.addEventListener("dragover", function (e) { e.preventDefault(); });
  window.addEventListener("drop", function (e) { e.preventDefault(); });

  /* ---------------- concept cards ---------------- */
  var conceptBox = document.getElementById("concept-errors");
  Array.prototype.forEach.call(form.querySelectorAll("input[name=concept]"), function (radio) {
    radio.addEventListener("change", function () {
      setClientError(conceptBox, "");
      document.getElementById("step-concept").classList.remove("has-error");
    });
  });

  /* ---------------- consent ---------------- */
  [["id_consent", "msgConsent"], ["id_partner_consent", "msgPartner"]].forEach(function (pair) {
    var box = document.getElementById(pair[0]);
    if (!box) return;
    box.addEventListener("change", function () {
      if (box.checked) {
        setClientError(document.getElementById(pair[0] + "-errors"), "");
        box.closest(".check-row").classList.remove("has-error");
      }
    });
  });

  /* ---------------- submit ---------------- */
  function validate() {
    var firstBad = null;

    var concepts = form.querySelectorAll("input[name=concept]");
    if (concepts.length && !form.querySelector("input[name=concept]:checked")) {
      setClientError(conceptBox, form.dataset.msgConcept);
      document.getElementById("step-concept").classList.add("has-error");
      firstBad = firstBad || concepts[0];
    }

    people.forEach(function (p) {
      var n = canSetFiles ? p.files.length : (p.input.files ? p.input.files.length : 0);
      var bad = p.files.some(function (f) { return !isImage(f) || f.size > MAX_BYTES; });
      if (n < MIN || n > MAX || bad) {
        var msg = MIN === MAX ? form.dataset.msgExact : form.dataset.msgRange;
        setClientError(p.errors, msg);
        p.root.classList.add("has-error");
        firstBad = firstBad || p.input;
      }
    });

    [["id_consent", "msgConsent"], ["id_partner_consent", "msgPartner"]].forEach(function (pair) {
      var box = document.getElementById(pair[0]);
      if (box && !box.checked) {
        setClientError(document.getElementById(pair[0] + "-errors"), form.dataset[pair[1]]);
        box.closest(".check-row").classList.add("has-error");
        firstBad = firstBad || box;
      }
    });
    return firstBad;
  }

  function setBusy(busy) {
    submit.disabled = busy;
    submit.classList.toggle("is-busy", busy);
    submit.setAttribute("aria-busy", busy ? "true" : "false");
    var label = submit.querySelector(".btn-label");
    if (busy) {
      label.dataset.idle = label.dataset.idle || label.textContent;
      label.textContent = form.dataset.labelBusy;
    } else if (label.dataset.idle) {
      label.textContent = label.dataset.idle;
    }
  }

  form.addEventListener("submit", function (event) {
    if (submit.disabled) { event.preventDefault(); return; }
    var firstBad = validate();
    if (firstBad) {
      event.preventDefault();
      alertBox.hidden = false;
      alertBox.innerHTML = "";
      var p = document.createElement("p");
      p.textContent = form.dataset.msgFix;
      alertBox.appendChild(p);
      firstBad.focus({ preventScroll: true });
      (firstBad.closest("fieldset") || firstBad).scrollIntoView({ behavior: "smooth", block: "start" });
      return;
    }
    setBusy(true);
  });

  // Coming back with the back button (bfcache) must not leave the button stuck.
  window.addEventListener("pageshow", function () { setBusy(false); });
})();
