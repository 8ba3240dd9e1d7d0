// Jiandu pages: a little plain JavaScript (no build step). Everything works without it.
(function () {
  "use strict";

  // Print buttons (the mailbox receipt).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // Character counters for long texts.
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var out = document.getElementById(area.dataset.counter);
    var update = function () { if (out) { out.textContent = String(area.value.length); } };
    area.addEventListener("input", update);
    update();
  });

  // Real-name fields only when "real name" is chosen.
  var kinds = document.querySelectorAll("input[name=reporter_kind]");
  var realName = document.querySelector(".real-name");
  var showRealName = function () {
    var chosen = document.querySelector("input[name=reporter_kind]:checked");
    if (realName) { realName.hidden = !(chosen && chosen.value === "real_name"); }
  };
  kinds.forEach(function (k) { k.addEventListener("change", showRealName); });
  showRealName();

  // Referral details only for the referral channel.
  var channel = document.getElementById("channel");
  var referral = document.querySelector("fieldset.referral");
  var showReferral = function () { if (referral && channel) { referral.hidden = channel.value !== "referral"; } };
  if (channel) { channel.addEventListener("change", showReferral); showReferral(); }

  // Cadre look-up in the register: fills the first empty "cadre reported" row.
  var search = document.querySelector("input[data-lookup]");
  var results = document.getElementById("cadre-results");
  if (search && results) {
    var timer = null;
    var fill = function (cadre) {
      var rows = document.querySelectorAll(".subject");
      for (var i = 0; i < rows.length; i++) {
        var name = document.getElementById("subject-" + i + "-name");
        if (name && !name.value) {
          name.value = cadre.name;
          document.getElementById("subject-" + i + "-unit").value = cadre.unit || "";
          document.getElementById("subject-" + i + "-position").value = cadre.position || "";
          document.getElementById("subject-" + i + "-cadre_id").value = cadre.cadre_id;
          results.textContent = "";
          search.value = "";
          search.focus();
          return;
        }
      }
    };
    var lookUp = function () {
      var q = search.value.trim();
      if (!q) { results.textContent = ""; return; }
      fetch(search.dataset.lookup + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (cadres) {
          results.textContent = "";
          cadres.forEach(function (cadre) {
            var li = document.createElement("li");
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = cadre.name + "　" + (cadre.unit || "") + "　" + (cadre.position || "");
            b.addEventListener("click", function () { fill(cadre); });
            li.appendChild(b);
            results.appendChild(li);
          });
        });
    };
    search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookUp, 200); });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); lookUp(); }
    });
  }
})();
