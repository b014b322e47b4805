// Preset editor: re-renders the preview from the form's unsaved values, half a second
// after the last change.
(function () {
  "use strict";
  var form = document.getElementById("preset-form");
  if (!form) { return; }
  var image = document.getElementById("preset-preview");
  var status = document.getElementById("preview-status");
  var timer = null;
  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrfmiddlewaretoken");
    params.delete("editor");
    var url = form.dataset.previewUrl + "?" + params.toString();
    status.textContent = "Rendering…";
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.ok) { return r.blob().then(function (b) {
        image.src = URL.createObjectURL(b);
        var warnings = JSON.parse(r.headers.get("X-Preview-Warnings") || "[]");
        status.textContent = warnings.length ? warnings.join(" ") : "Preview updated.";
        status.classList.toggle("warning", warnings.length > 0);
      }); }
      return r.json().then(function (data) { status.textContent = data.detail || "This preset cannot be rendered."; });
    }).catch(function () { status.textContent = "The preview could not be loaded."; });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  });
}());
