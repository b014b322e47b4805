// Selfie upload: each file sent on its own request with its own progress bar, then its
// verdict polled until the worker has checked it. No framework.
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  if (!zone) { return; }
  var input = document.getElementById("photo-input");
  var list = document.getElementById("uploads");
  var csrf = document.getElementById("csrf").value;
  var uploadUrl = zone.dataset.uploadUrl;
  var statusUrl = zone.dataset.statusUrl;
  var maxBytes = parseInt(zone.dataset.maxBytes, 10);
  var needed = parseInt(zone.dataset.needed, 10);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function setUsable(count) {
    document.querySelector("[data-usable]").textContent = count;
    var button = document.getElementById("generate-button");
    button.disabled = count < needed;
    document.getElementById("generate-help").textContent = count < needed ? "Needs " + needed + " usable photos." : "";
  }

  function showVerdict(item, data) {
    var verdict = item.querySelector(".verdict");
    var problems = item.querySelector(".problems");
    verdict.textContent = "";
    problems.textContent = "";
    var badge;
    if (!data.checked) { badge = el("span", { "class": "badge" }, "Checking…"); }
    else if (data.usable) { badge = el("span", { "class": "badge ok" }, "Usable"); }
    else { badge = el("span", { "class": "badge bad" }, "Not usable"); }
    verdict.appendChild(badge);
    (data.problems || []).forEach(function (p) {
      problems.appendChild(el("li", { "class": p.status }, (p.status === "fail" ? "To fix: " : "Tip: ") + p.message));
    });
    if (data.checked && data.marked_url) {
      item.querySelector("img").src = data.marked_url;
    }
    if (data.delete_url && !item.querySelector("form.delete-photo")) {
      var remove = el("form", { method: "post", action: data.delete_url, "class": "delete-photo" });
      var token = el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrf });
      remove.appendChild(token);
      remove.appendChild(el("button", { type: "submit", "class": "link" }, "Delete this photo"));
      item.querySelector("div").appendChild(remove);
    }
  }

  function poll(item, id, delay) {
    fetch(statusUrl.replace(/0\/$/, id + "/"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        showVerdict(item, data);
        if (typeof data.usable_count === "number") { setUsable(data.usable_count); }
        if (!data.checked) { setTimeout(function () { poll(item, id, Math.min(delay * 1.5, 5000)); }, delay); }
      })
      .catch(function () { setTimeout(function () { poll(item, id, 5000); }, 5000); });
  }

  function send(file) {
    var item = el("li");
    var thumb = el("img", { alt: "" });
    thumb.onerror = function () { thumb.style.visibility = "hidden"; };
    thumb.src = URL.createObjectURL(file);
    var body = el("div");
    body.appendChild(el("p", { "class": "name" }, file.name));
    var bar = el("progress", { max: "100", value: "0", "aria-label": "Upload of " + file.name });
    body.appendChild(bar);
    body.appendChild(el("p", { "class": "verdict" }));
    body.appendChild(el("ul", { "class": "problems" }));
    item.appendChild(thumb);
    item.appendChild(body);
    list.insertBefore(item, list.firstChild);
    if (file.size > maxBytes) {
      bar.remove();
      item.querySelector(".verdict").appendChild(el("span", { "class": "badge bad" }, "Too large"));
      item.querySelector(".problems").appendChild(el("li", {}, "This file is larger than the limit; upload a smaller photo."));
      return;
    }
    var form = new FormData();
    form.append("photo", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); } };
    xhr.onload = function () {
      bar.remove();
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = { detail: "The server answered " + xhr.status + "." }; }
      if (xhr.status >= 200 && xhr.status < 300) {
        var known = list.querySelector("li[data-photo='" + data.id + "']");
        if (data.created === false && known) {
          // the same photo again: one row for it, and a word saying so
          item.remove();
          var note = known.querySelector(".again") || el("p", { "class": "help again" });
          note.textContent = "You uploaded this photo already: it is kept once.";
          known.querySelector("div").appendChild(note);
          known.scrollIntoView({ block: "nearest" });
          return;
        }
        item.dataset.photo = data.id;
        showVerdict(item, data);
        if (!data.checked) { poll(item, data.id, 700); }
      } else {
        item.querySelector(".verdict").appendChild(el("span", { "class": "badge bad" }, "Refused"));
        item.querySelector(".problems").appendChild(el("li", {}, data.detail || "The upload failed."));
      }
    };
    xhr.onerror = function () {
      bar.remove();
      item.querySelector(".problems").appendChild(el("li", {}, "The upload was interrupted; check your connection and try again."));
    };
    xhr.send(form);
  }

  function sendAll(files) { Array.prototype.forEach.call(files, send); }
  input.addEventListener("change", function () { sendAll(input.files); input.value = ""; });
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) { e.preventDefault(); zone.classList.remove("over"); sendAll(e.dataTransfer.files); });
  Array.prototype.forEach.call(list.querySelectorAll("li[data-checked='0']"), function (item) {
    poll(item, item.dataset.photo, 1000);
  });
}());
