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
  var MIN_SIDE = parseInt(form.dataset.minSide, 10) || 0;
  // Files refused (by the browser's own checks or by the server) stay selected and are marked in place
  // with their reason; removing or replacing the file clears the mark.
  var badReason = typeof Map === "function" ? new Map() : null;
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

  function setBad(file, message) {
    if (badReason) badReason.set(file, message);
  }
  function reasonOf(file) {
    return badReason ? badReason.get(file) : undefined;
  }

  /* Before upload: a photo smaller than the server accepts is marked at once (formats the browser
   * cannot decode, e.g. HEIC in most browsers, are left to the server). */
  function checkPixels(file, done) {
    if (!MIN_SIDE || typeof createImageBitmap !== "function") return;
    createImageBitmap(file).then(function (bmp) {
      var small = Math.min(bmp.width, bmp.height) < MIN_SIDE;
      if (bmp.close) bmp.close();
      if (small) {
        setBad(file, fmt(form.dataset.msgSmall, { name: file.name }));
        done();
      }
    }).catch(function () { /* not decodable here: the server decides */ });
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
        li.dataset.index = String(index);
        li.setAttribute("data-testid", "preview");
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
        var reason = reasonOf(file);
        if (reason) {
          li.classList.add("is-bad");
          li.tabIndex = -1;
          li.setAttribute("data-testid", "preview-bad");
          var why = document.createElement("p");
          why.className = "preview-error";
          why.id = input.id + "-file-" + index + "-error";
          why.textContent = reason;
          li.setAttribute("aria-describedby", why.id);
          li.appendChild(why);
        }
        list.appendChild(li);
      });
      root.classList.toggle("has-bad-file", person.files.some(function (f) { return !!reasonOf(f); }));
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
      accepted.forEach(function (file) { checkPixels(file, render); });
    }
    person.render = render;

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
      var badIndex = -1;
      p.files.forEach(function (f, i) { if (badIndex === -1 && reasonOf(f)) badIndex = i; });
      if (badIndex > -1) {
        firstBad = firstBad || p.root.querySelector('[data-index="' + badIndex + '"]');
        return;
      }
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

  function showAlert(lines) {
    alertBox.hidden = false;
    alertBox.innerHTML = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      alertBox.appendChild(p);
    });
  }

  function focusOn(el) {
    if (!el) return;
    el.focus({ preventScroll: true });
    var target = el.classList && el.classList.contains("preview") ? el : (el.closest("fieldset") || el);
    target.scrollIntoView({ behavior: "smooth", block: el.classList && el.classList.contains("preview") ? "center" : "start" });
  }

  /* The server refused something cheap (a file it cannot read, too big, a count, consent, a quota):
   * the chosen photos stay selected, the refused file is marked in place, focus moves to it. */
  function showServerErrors(errors) {
    var lines = [];
    var firstBad = null;
    var photoProblem = false;
    errors.forEach(function (e) {
      var person = null;
      people.forEach(function (p) { if (p.input.name === e.field) person = p; });
      if (person && e.index != null && person.files[e.index]) {
        setBad(person.files[e.index], e.message);
        photoProblem = true;
        return;
      }
      var box = e.field ? document.getElementById(e.field === "concept" ? "concept-errors" : "id_" + e.field + "-errors") : null;
      if (box) {
        setClientError(box, e.message);
        var holder = box.closest(".person") || box.previousElementSibling;
        if (holder && holder.classList) holder.classList.add("has-error");
        firstBad = firstBad || (person ? person.input : document.getElementById("id_" + e.field)) || box;
      } else {
        lines.push(e.message);
      }
    });
    people.forEach(function (p) {
      p.render();
      if (!photoProblem) return;
      var li = p.root.querySelector(".preview.is-bad");
      if (li && !(firstBad && firstBad.classList && firstBad.classList.contains("preview"))) firstBad = li;
    });
    if (photoProblem) lines.push(form.dataset.msgFixPhoto);
    else if (!lines.length) lines.push(form.dataset.msgFix);
    showAlert(lines);
    focusOn(firstBad || alertBox);
  }

  var canFetch = !!(window.fetch && window.FormData) && canSetFiles;

  form.addEventListener("submit", function (event) {
    if (submit.disabled) { event.preventDefault(); return; }
    var firstBad = validate();
    if (firstBad) {
      event.preventDefault();
      var onPhoto = firstBad.classList && firstBad.classList.contains("preview");
      showAlert([onPhoto ? form.dataset.msgFixPhoto : form.dataset.msgFix]);
      focusOn(firstBad);
      return;
    }
    setBusy(true);
    if (!canFetch) return; // plain multipart POST; the server re-renders the page on a refusal
    event.preventDefault();
    alertBox.hidden = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return body; }, function () {
        return { errors: [{ field: null, index: null, message: response.status === 413 ? fmt(form.dataset.msgSize, { name: "" }).trim() : form.dataset.msgNetwork }] };
      });
    }).then(function (body) {
      if (body && body.redirect) {
        window.location.assign(body.redirect);
        return;
      }
      setBusy(false);
      showServerErrors((body && body.errors) || []);
    }).catch(function () {
      setBusy(false);
      showAlert([form.dataset.msgNetwork]);
      focusOn(alertBox);
    });
  });

  // Coming back with the back button (bfcache) must not leave the button stuck.
  window.addEventListener("pageshow", function () { setBusy(false); });
})();
