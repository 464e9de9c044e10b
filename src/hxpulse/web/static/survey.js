// The public survey page, enhanced: the follow-up question for the chosen score's band appears
// on the same page, so Submit records score and why at once. Without JavaScript the "Next"
// button leads to a second page with the same question; the server handles both the same way.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  var data = document.getElementById("survey-bands");
  if (!form || !data) { return; }
  var bands = JSON.parse(data.textContent);
  var followup = document.getElementById("followup");
  var question = document.getElementById("followup-question");
  var next = document.getElementById("next-step");
  if (next) { next.remove(); }  // the follow-up question appears right here instead

  function show(score) {
    for (var i = 0; i < bands.length; i += 1) {
      if (score >= bands[i].low && score <= bands[i].high) {
        if (question.textContent !== bands[i].question) { question.textContent = bands[i].question; }
        followup.hidden = false;
        followup.setAttribute("data-band", bands[i].name);
        return;
      }
    }
  }
  form.addEventListener("change", function (event) {
    if (event.target && event.target.name === "score") { show(Number(event.target.value)); }
  });
  form.addEventListener("keydown", function (event) {  // Enter on a score: on to the why
    var target = event.target;
    if (event.key !== "Enter" || !target || target.name !== "score") { return; }
    event.preventDefault();
    target.checked = true;
    show(Number(target.value));
    document.getElementById("why").focus();
  });
  var checked = form.querySelector("input[name=score]:checked");  // restored by Back
  if (checked) { show(Number(checked.value)); }
})();

// The survey form: only the chosen kind's follow-up questions are shown (without JavaScript all
// kinds are, and the server reads the chosen kind's), and the question's placeholder follows.
(function () {
  "use strict";
  var form = document.getElementById("survey-definition");
  if (!form) { return; }
  var kind = form.elements.namedItem("kind");
  var question = form.elements.namedItem("question");
  function shape() {
    form.querySelectorAll("fieldset[data-kind]").forEach(function (set) {
      set.hidden = set.getAttribute("data-kind") !== kind.value;
    });
    var chosen = kind.options[kind.selectedIndex];
    if (chosen) { question.placeholder = chosen.getAttribute("data-question") || ""; }
  }
  kind.addEventListener("change", shape);
  shape();
})();
