/* Result page: the phone's share sheet with the photo itself (Web Share API Level 2), falling back
   to sharing / copying the share link, then to the download. No inline script (CSP). */
(function () {
  "use strict";
  var btn = document.querySelector("[data-share-image]");
  var status = document.querySelector("[data-testid=share-status]");

  function say(text) { if (status) status.textContent = text; }

  function copy(text) {
    if (navigator.clipboard && navigator.clipboard.writeText) return navigator.clipboard.writeText(text);
    return Promise.reject(new Error("no clipboard"));
  }

  document.querySelectorAll("[data-copy-link]").forEach(function (b) {
    b.addEventListener("click", function () {
      var input = b.closest("li").querySelector("input");
      copy(input.value).then(function () { say(document.documentElement.lang === "en" ? "Link copied." : "링크를 복사했어요."); },
        function () { input.select(); });
    });
  });

  if (!btn) return;
  var canShareFiles = typeof navigator.canShare === "function" && typeof navigator.share === "function";
  var shareUrl = btn.getAttribute("data-share-url");
  if (!canShareFiles && !(shareUrl && typeof navigator.share === "function")) return; // download stays
  btn.hidden = false;

  btn.addEventListener("click", function () {
    btn.disabled = true;
    fetch(btn.getAttribute("data-share-image"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.blob(); })
      .then(function (blob) {
        var file = new File([blob], btn.getAttribute("data-share-name"), { type: "image/jpeg" });
        var data = { files: [file], title: btn.getAttribute("data-share-title"), text: btn.getAttribute("data-share-text") };
        if (canShareFiles && navigator.canShare({ files: [file] })) return navigator.share(data);
        if (shareUrl) return navigator.share({ url: shareUrl, title: data.title, text: data.text });
        document.querySelector("[data-testid=download-result]").click();
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return; // the person closed the share sheet
        document.querySelector("[data-testid=download-result]").click();
      })
      .finally(function () { btn.disabled = false; });
  });
})();
