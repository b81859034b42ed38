// The installation page's photo viewer: step with the arrow keys or buttons, full size on click.
// A static file, so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  function init() {
    var viewer = document.getElementById("viewer");
    if (!viewer) { return; }
    var items = Array.prototype.slice.call(document.querySelectorAll("#strip .strip-item"));
    var image = document.getElementById("viewer-image");
    var position = document.getElementById("viewer-position");
    var full = document.getElementById("viewer-full");
    var lightbox = document.getElementById("lightbox");
    var lightboxImage = document.getElementById("lightbox-image");
    var current = 0;

    function show(index) {
      if (!items.length) { return; }
      current = (index + items.length) % items.length;
      var item = items[current];
      image.src = item.getAttribute("data-medium");
      image.alt = item.getAttribute("data-alt") || "";
      full.href = item.getAttribute("data-full");
      position.textContent = String(current + 1);
      items.forEach(function (other, n) { other.classList.toggle("current", n === current); });
      if (!lightbox.hidden) { lightboxImage.src = item.getAttribute("data-full"); }
    }

    function openFull() {
      lightboxImage.src = items[current].getAttribute("data-full");
      lightbox.hidden = false;
    }

    items.forEach(function (item, n) {
      item.addEventListener("click", function () { show(n); });
    });
    document.getElementById("viewer-prev").addEventListener("click", function () { show(current - 1); });
    document.getElementById("viewer-next").addEventListener("click", function () { show(current + 1); });
    image.addEventListener("click", openFull);
    full.addEventListener("click", function (event) { event.preventDefault(); openFull(); });
    lightbox.addEventListener("click", function () { lightbox.hidden = true; });
    // Swipe on a phone: a mostly horizontal move of at least 40 px steps to the next or previous photo.
    var touchX = null, touchY = null;
    image.addEventListener("touchstart", function (event) {
      touchX = event.changedTouches[0].clientX; touchY = event.changedTouches[0].clientY;
    }, { passive: true });
    image.addEventListener("touchend", function (event) {
      if (touchX === null) { return; }
      var dx = event.changedTouches[0].clientX - touchX, dy = event.changedTouches[0].clientY - touchY;
      touchX = null;
      if (Math.abs(dx) >= 40 && Math.abs(dx) > 2 * Math.abs(dy)) { show(current + (dx < 0 ? 1 : -1)); }
    });
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (target && (target.tagName === "INPUT" || target.tagName === "VIDEO" || target.tagName === "SELECT")) { return; }
      if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
      else if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
      else if (event.key === "Escape") { lightbox.hidden = true; }
    });
  }

  // "Copy link" on every page: the page's address (its filters in the query) to the clipboard. Over plain
  // http on an internal name the Clipboard API is not offered, so a selected text field is copied instead.
  function copyLink() {
    var button = document.getElementById("copy-link");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(window.location.href).then(done);
        return;
      }
      var field = document.createElement("textarea");
      field.value = window.location.href;
      document.body.appendChild(field);
      field.select();
      document.execCommand("copy");
      document.body.removeChild(field);
      done();
    });
    var print = document.getElementById("print-report");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
    document.addEventListener("DOMContentLoaded", copyLink);
  } else {
    init();
    copyLink();
  }
}());
