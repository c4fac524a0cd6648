// The page of `nst serve`: choose images and settings, start a run, follow it through
// Server-Sent Events, download the result. Plain JavaScript, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { config: null, content: null, paintings: [], job: null, events: null };

async function init() {
  state.config = await (await fetch("/api/config")).json();
  const { defaults, max_size, device } = state.config;
  if (device) {
    $("device").textContent = `Runs on ${device}.`;
    $("device").hidden = false;
  }
  $("size").value = Math.min(Number($("size").value), max_size);
  $("size").max = max_size;
  $("steps").placeholder = `by size (${defaults.steps} at ${defaults.size} px)`;
  const { photos, paintings } = state.config.examples;
  for (const name of photos) {
    $("content-examples").append(thumb(name, () => { state.content = { example: name }; render(); }));
  }
  for (const name of paintings) $("style-examples").append(thumb(name, () => addPainting({ example: name })));
  state.content = photos.length ? { example: photos[0] } : null;
  if (paintings.length) addPainting({ example: paintings[0] });
  $("content-file").addEventListener("change", (e) => {
    if (e.target.files.length) state.content = { file: e.target.files[0] };
    render();
  });
  $("style-file").addEventListener("change", (e) => {
    for (const file of e.target.files) addPainting({ file });
    e.target.value = "";
  });
  $("limit").addEventListener("change", showLimit);
  addMoreSettings(state.config.settings);
  $("strength").value = Math.log10(Number($("style-strength").value)); // the slider is on a log scale
  $("strength").addEventListener("input", showStrength);
  $("form").addEventListener("submit", (e) => { e.preventDefault(); start(); });
  $("cancel").addEventListener("click", cancel);
  showLimit();
  showStrength();
  render();
}

// A run stops after its steps or its time budget: the control of the one chosen is shown and sent,
// the other neither (a disabled control is not sent).
function showLimit() {
  for (const option of $("limit").options) {
    const control = $("form").elements.namedItem(option.value);
    control.disabled = !option.selected;
    control.closest("label").hidden = !option.selected;
  }
}

// The settings the form may send (declared with web=True in nst.options) that have no control
// named after them in the page get a plain one here, so that a new one is on the page without
// editing it.
function addMoreSettings(settings) {
  for (const setting of settings) {
    if ($("form").elements.namedItem(setting.name)) continue;
    let input;
    if (setting.choices) {
      input = document.createElement("select");
      for (const value of ["", ...setting.choices]) input.append(new Option(value || "default", value));
    } else {
      input = document.createElement("input");
      const number = setting.kind === "int" || setting.kind === "float";
      input.type = setting.kind === "switch" || setting.kind === "flag" ? "checkbox" : number ? "number" : "text";
      if (number) input.step = setting.kind === "int" ? "1" : "any";
      if (input.type === "checkbox") input.checked = Boolean(setting.default);
      else input.value = Array.isArray(setting.default) ? setting.default.join(",") : (setting.default ?? "");
    }
    input.name = setting.name;
    const label = document.createElement("label");
    label.append(`${setting.help} `, input);
    $("more-settings").append(label);
  }
}

function thumb(name, onclick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "thumb";
  button.title = name;
  button.dataset.name = name;
  const img = document.createElement("img");
  img.src = `/api/examples/${encodeURIComponent(name)}`;
  img.alt = name;
  button.append(img);
  button.addEventListener("click", onclick);
  return button;
}

function label(item) {
  return item.example || item.file.name;
}

function preview(item) {
  return item.example ? `/api/examples/${encodeURIComponent(item.example)}` : URL.createObjectURL(item.file);
}

function addPainting(item) {
  if (state.paintings.length >= state.config.max_paintings) {
    showError(`at most ${state.config.max_paintings} paintings at once`);
    return;
  }
  state.paintings.push({ ...item, weight: 1 });
  render();
}

function render() {
  for (const button of $("content-examples").children) {
    button.classList.toggle("selected", state.content?.example === button.dataset.name);
  }
  $("content-chosen").replaceChildren();
  if (state.content) {
    const img = document.createElement("img");
    img.src = preview(state.content);
    img.alt = "";
    $("content-chosen").append(img, document.createTextNode(label(state.content)));
  }
  const list = $("paintings");
  list.replaceChildren();
  state.paintings.forEach((item, index) => {
    const row = document.createElement("li");
    const img = document.createElement("img");
    img.src = preview(item);
    img.alt = "";
    const name = document.createElement("span");
    name.textContent = label(item);
    const weight = document.createElement("input");
    weight.type = "number";
    weight.min = "0";
    weight.step = "0.1";
    weight.value = item.weight;
    weight.title = "weight in the blend";
    weight.hidden = state.paintings.length < 2;
    weight.addEventListener("input", () => { item.weight = weight.value; });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = "remove";
    remove.addEventListener("click", () => { state.paintings.splice(index, 1); render(); });
    row.append(img, name, weight, remove);
    list.append(row);
  });
}

function showStrength() {
  const strength = 10 ** Number($("strength").value);
  $("style-strength").value = String(strength);
  $("strength-shown").textContent = `×${strength.toPrecision(2)}`;
}

function showError(message) {
  $("error").textContent = message || "";
}

function formData() {
  const form = new FormData();
  // An example goes by its name, an upload as the file itself, in the order shown.
  const image = (field, item) => (item.example ? form.append(field, item.example) : form.append(field, item.file));
  if (state.content) image("content", state.content);
  for (const item of state.paintings) image("style", item);
  $("style-blend").value = state.paintings.length > 1 ? state.paintings.map((p) => p.weight).join(",") : "";
  // Then each control named after a setting, in the page's order: a switch as on or off (a form
  // leaves an unticked box out, which the server would read as the default), a file once chosen.
  for (const control of $("form").elements) {
    if (!control.name || control.disabled) continue;
    if (control.type === "file") {
      if (control.files.length) form.append(control.name, control.files[0]);
    } else {
      form.append(control.name, control.type === "checkbox" ? (control.checked ? "on" : "off") : control.value);
    }
  }
  return form;
}

async function start() {
  showError("");
  if (!state.content) return showError("choose a photo");
  if (!state.paintings.length) return showError("choose at least one painting");
  $("start").disabled = true;
  try {
    const response = await fetch("/api/jobs", { method: "POST", body: formData() });
    const body = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    if (!response.ok) throw new Error(body.error);
    watch(body.id);
  } catch (error) {
    showError(error.message);
    $("start").disabled = false;
  }
}

function watch(id) {
  state.job = { id, preview: 0 };
  $("download").hidden = true;
  $("cancel").hidden = false;
  $("cancel").disabled = false;
  $("losses").textContent = "";
  $("progress").value = 0;
  $("status").textContent = "Sending…";
  state.events = new EventSource(`/api/jobs/${id}/events`);
  state.events.onmessage = (event) => update(JSON.parse(event.data));
  state.events.onerror = async () => {
    // EventSource reconnects by itself; a run the server no longer has is the end of it.
    const response = await fetch(`/api/jobs/${id}`).catch(() => null);
    if (response && response.status === 404) finish("The run is gone (was the server restarted?).");
  };
}

function update(s) {
  const job = state.job;
  if (!job || s.id !== job.id) return;
  if (s.preview !== job.preview && s.state === "running") {
    job.preview = s.preview;
    show(`/api/jobs/${job.id}/preview?v=${s.preview}`);
  }
  if (s.state === "queued") {
    $("status").textContent = s.ahead ? `Waiting: ${s.ahead} run${s.ahead > 1 ? "s" : ""} ahead of yours.` : "Starting…";
  } else if (s.state === "running") {
    const budget = s.time_budget_s;
    $("progress").value = budget ? Math.min(1, s.elapsed_s / budget) : s.steps ? s.step / s.steps : 0;
    // The time left is the run's own estimate, the one the terminal shows (nst.run.progress).
    const left = s.eta_s == null ? "" : ` · about ${seconds(s.eta_s)} left`;
    const size = s.scales > 1 ? ` at ${s.size} px (${s.scale} of ${s.scales})` : "";
    // A print's step takes minutes in tiles: the page moves with them.
    const tile = s.tile ? `, tile pass ${s.tile[0]}/${s.tile[1]}` : "";
    // Before the first step the picture shown, if any, is the fast network's sketch.
    const waiting = s.preview ? "A quick sketch; loading the network" : "Loading the network";
    const at = s.tile ? s.step + 1 : s.step; // in tiles, the step at work; else the last one done
    const where = at ? `Step ${at}${budget || !s.steps ? "" : ` of ${s.steps}`}${size}${tile}` : waiting;
    $("status").textContent = s.cancelling ? "Cancelling…" : `${where} · ${seconds(s.elapsed_s)}${left}`;
    if (s.losses.total !== undefined) {
      const l = s.losses;
      $("losses").textContent = `loss ${num(l.total)} (content ${num(l.content)}, style ${num(l.style)})`;
    }
  }
  if (s.result) {
    show(`/api/jobs/${job.id}/result`);
    $("download").href = `/api/jobs/${job.id}/result`;
    $("download").hidden = false;
  }
  if (s.state === "done") {
    $("progress").value = 1;
    finish(`Done: ${s.step} steps in ${seconds(s.elapsed_s)}.`);
  } else if (s.state === "failed") {
    finish("Failed.");
    showError(s.message);
  } else if (s.state === "cancelled") {
    finish(s.message.charAt(0).toUpperCase() + s.message.slice(1) + ".");
  }
}

function show(url) {
  $("picture").src = url;
  $("placeholder").hidden = true;
}

function finish(message) {
  if (state.events) state.events.close();
  state.events = null;
  $("status").textContent = message;
  $("cancel").hidden = true;
  $("start").disabled = false;
}

async function cancel() {
  if (!state.job) return;
  $("cancel").disabled = true;
  const response = await fetch(`/api/jobs/${state.job.id}/cancel`, { method: "POST" });
  if (response.ok) update(await response.json());
}

// The one duration format, as the terminal writes it (nst.run.progress.duration): 45 s, 3 min 05 s, 2 h 10 min.
function seconds(s) {
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function num(x) {
  return Number(x).toPrecision(3);
}

init().catch((error) => showError(`cannot reach the server: ${error.message}`));
