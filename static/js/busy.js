/* The "busy, retrying" page (templates/503.html) tries again by itself after a few seconds.
 * A static file, not an inline script: the site's Content-Security-Policy allows scripts from 'self' only. */
(function () {
  "use strict";
  var el = document.querySelector("[data-retry-seconds]");
  var seconds = el ? parseInt(el.getAttribute("data-retry-seconds"), 10) || 5 : 5;
  setTimeout(function () { location.reload(); }, seconds * 1000);
})();
