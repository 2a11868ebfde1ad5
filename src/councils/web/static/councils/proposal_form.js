// The proposal form shows only the fields of the chosen kind. Without this script the kind picker reloads the page
// for the chosen kind (the server hides and disables the other fields); with it, the fields switch as the kind changes.
(function () {
  var picker = document.getElementById("kind-choice");
  var form = document.getElementById("proposal-form");
  if (!picker || !form) return;
  var kindInput = form.querySelector("input[name=kind]");
  var button = document.getElementById("kind-show");
  if (button) button.hidden = true;
  function show(kind) {
    if (kindInput) kindInput.value = kind;
    form.querySelectorAll("[data-kinds]").forEach(function (field) {
      var on = (" " + field.getAttribute("data-kinds") + " ").indexOf(" " + kind + " ") >= 0;
      field.hidden = !on;
      field.querySelectorAll("input, select, textarea").forEach(function (input) { input.disabled = !on; });
    });
  }
  picker.addEventListener("change", function () {
    show(picker.value);
    var url = new URL(window.location.href);
    url.searchParams.set("kind", picker.value);
    window.history.replaceState(null, "", url);
  });
  show(picker.value);
})();
