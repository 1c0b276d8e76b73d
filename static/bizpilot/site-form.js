/* BizPilot's contact form for the business's own website (leads/site_form_views.py serves this with its settings).
   One <script> tag renders it into <div id="bizpilot-form"> (or just after the script), posts to BizPilot, shows a
   clear confirmation, and keeps what the visitor typed (in the page and in localStorage) until it is sent. */
function bizpilotForm(config, script) {
  "use strict";
  var LABELS = { name: "Your name", email: "Email", phone: "Phone", company: "Company", message: "Your message" };
  var TYPES = { email: "email", phone: "tel" };
  var AUTOCOMPLETE = { name: "name", email: "email", phone: "tel", company: "organization" };
  var draftKey = "bizpilot-form:" + config.endpoint;
  var host = document.getElementById("bizpilot-form");
  if (!host) {
    host = document.createElement("div");
    host.id = "bizpilot-form";
    script.parentNode.insertBefore(host, script.nextSibling);
  }
  var style = document.createElement("style");
  style.textContent =
    ".bp-form{max-width:36rem;font:inherit;display:grid;gap:.75rem}" +
    ".bp-form label{display:block;font-weight:600;margin-bottom:.25rem}" +
    ".bp-form input,.bp-form textarea{box-sizing:border-box;width:100%;padding:.5rem;font:inherit;border:1px solid #767676;border-radius:4px}" +
    ".bp-form [aria-invalid=true]{border-color:#b00020}" +
    ".bp-form .bp-error{color:#b00020;font-size:.9em;margin:.25rem 0 0}" +
    ".bp-form .bp-consent{display:flex;gap:.5rem;align-items:flex-start}" +
    ".bp-form .bp-consent input{width:auto;margin-top:.2rem}" +
    ".bp-form button{justify-self:start;padding:.6rem 1.4rem;font:inherit;cursor:pointer}" +
    ".bp-form .bp-trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}" +
    ".bp-status{padding:.5rem 0}.bp-status.bp-bad{color:#b00020}.bp-status.bp-good{color:#1b5e20}";
  document.head.appendChild(style);

  var form = document.createElement("form");
  form.className = "bp-form";
  form.noValidate = true;
  form.setAttribute("aria-labelledby", "bp-form-heading");
  var heading = document.createElement("h2");
  heading.id = "bp-form-heading";
  heading.textContent = config.heading;
  form.appendChild(heading);

  var inputs = {};
  config.fields.forEach(function (name) {
    var row = document.createElement("div");
    var label = document.createElement("label");
    var id = "bp-field-" + name;
    label.htmlFor = id;
    label.textContent = LABELS[name] + (config.required.indexOf(name) >= 0 ? " (required)" : "");
    var input = document.createElement(name === "message" ? "textarea" : "input");
    if (name === "message") input.rows = 5;
    else input.type = TYPES[name] || "text";
    input.id = id;
    input.name = name;
    if (AUTOCOMPLETE[name]) input.autocomplete = AUTOCOMPLETE[name];
    if (config.required.indexOf(name) >= 0) input.required = true;
    var error = document.createElement("p");
    error.className = "bp-error";
    error.id = id + "-error";
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);
    row.appendChild(label);
    row.appendChild(input);
    row.appendChild(error);
    form.appendChild(row);
    inputs[name] = input;
  });

  // The honeypot: off screen, out of the tab order, hidden from screen readers. People leave it empty.
  var trap = document.createElement("div");
  trap.className = "bp-trap";
  trap.setAttribute("aria-hidden", "true");
  trap.innerHTML = '<label for="bp-website-url">Website</label>';
  var trapInput = document.createElement("input");
  trapInput.id = "bp-website-url";
  trapInput.name = "website_url";
  trapInput.tabIndex = -1;
  trapInput.autocomplete = "off";
  trap.appendChild(trapInput);
  form.appendChild(trap);

  var consentRow = document.createElement("div");
  consentRow.className = "bp-consent";
  var consent = document.createElement("input");
  consent.type = "checkbox";
  consent.id = "bp-consent";
  consent.required = true;
  var consentLabel = document.createElement("label");
  consentLabel.htmlFor = "bp-consent";
  consentLabel.textContent = config.consent_text + " ";
  if (config.privacy_url) {
    var privacy = document.createElement("a");
    privacy.href = config.privacy_url;
    privacy.target = "_blank";
    privacy.rel = "noopener";
    privacy.textContent = "Privacy notice";
    consentLabel.appendChild(privacy);
  }
  consentRow.appendChild(consent);
  consentRow.appendChild(consentLabel);
  form.appendChild(consentRow);
  var consentError = document.createElement("p");
  consentError.className = "bp-error";
  consentError.id = "bp-consent-error";
  consentError.hidden = true;
  consent.setAttribute("aria-describedby", consentError.id);
  form.appendChild(consentError);

  var captchaBox = null;
  if (config.captcha) {
    captchaBox = document.createElement("div");
    captchaBox.className = config.captcha === "turnstile" ? "cf-turnstile" : "h-captcha";
    captchaBox.setAttribute("data-sitekey", config.captcha_site_key);
    form.appendChild(captchaBox);
    var widget = document.createElement("script");
    widget.src = config.captcha === "turnstile"
      ? "https://challenges.cloudflare.com/turnstile/v0/api.js"
      : "https://js.hcaptcha.com/1/api.js";
    widget.async = true;
    document.head.appendChild(widget);
  }

  var button = document.createElement("button");
  button.type = "submit";
  button.textContent = config.button_text;
  form.appendChild(button);
  var status = document.createElement("div");
  status.className = "bp-status";
  status.id = "bp-status";
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  host.appendChild(form);
  host.appendChild(status);

  // What the visitor typed survives a reload or a failed send.
  try {
    var saved = JSON.parse(window.localStorage.getItem(draftKey) || "{}");
    Object.keys(saved).forEach(function (name) { if (inputs[name]) inputs[name].value = saved[name]; });
  } catch (e) { /* no storage: the page still keeps the values */ }
  form.addEventListener("input", function () {
    var values = {};
    Object.keys(inputs).forEach(function (name) { values[name] = inputs[name].value; });
    try { window.localStorage.setItem(draftKey, JSON.stringify(values)); } catch (e) { /* ignore */ }
  });

  var submission = Math.random().toString(36).slice(2) + Date.now().toString(36);

  function say(text, good) {
    status.textContent = text;
    status.className = "bp-status " + (good ? "bp-good" : "bp-bad");
  }

  function showErrors(fields) {
    var first = null;
    Object.keys(inputs).concat(["consent"]).forEach(function (name) {
      var input = name === "consent" ? consent : inputs[name];
      var error = name === "consent" ? consentError : document.getElementById("bp-field-" + name + "-error");
      var problems = (fields || {})[name];
      if (problems && problems.length) {
        error.textContent = problems.join(" ");
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      } else {
        error.hidden = true;
        input.removeAttribute("aria-invalid");
      }
    });
    if (first) first.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {
      token: config.token,
      submission: submission,
      consent: consent.checked,
      page: window.location.href,
      website_url: trapInput.value
    };
    Object.keys(inputs).forEach(function (name) { body[name] = inputs[name].value; });
    if (captchaBox) {
      var answer = form.querySelector("[name=cf-turnstile-response],[name=h-captcha-response]");
      body.captcha = answer ? answer.value : "";
    }
    button.disabled = true;
    say("Sending…", true);
    fetch(config.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }).then(function (result) {
      button.disabled = false;
      if (result.ok) {
        showErrors({});
        form.hidden = true;
        say(result.data.message || config.thank_you, true);
        try { window.localStorage.removeItem(draftKey); } catch (e) { /* ignore */ }
        status.tabIndex = -1;
        status.focus();
        return;
      }
      if (result.status >= 500) {
        say("We could not send your message just now. Nothing you typed is lost: please try again in a moment.", false);
        return;
      }
      var error = result.data.error || {};
      showErrors(error.fields);
      say(error.message || "Your message could not be sent.", false);
    }).catch(function () {
      button.disabled = false;
      say("We could not reach our server. Nothing you typed is lost: please try again in a moment.", false);
    });
  });
}
