// Job progress: polls the status and reloads the page when the job has finished.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  function tick(delay) {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        box.querySelector("[data-stage]").textContent = data.stage;
        box.querySelector("[data-percent]").textContent = data.progress;
        bar.value = data.progress;
        if (data.finished) { window.location.reload(); return; }
        setTimeout(function () { tick(Math.min(delay * 1.3, 5000)); }, delay);
      })
      .catch(function () { setTimeout(function () { tick(5000); }, 5000); });
  }
  tick(1000);
}());
