// The demo shop's compare button: marks the product (the widget's "compare" trigger watches it).
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest(".compare");
  if (!button) return;
  var pressed = button.getAttribute("aria-pressed") === "true";
  button.setAttribute("aria-pressed", String(!pressed));
  button.textContent = pressed ? "Compare" : "Added to compare";
});
