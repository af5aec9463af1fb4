"""The words of Help (F1) and Model info: what each part of the window does, the shortcuts,
and the current model in plain language."""

from __future__ import annotations

import html

from kpgui.core.model.cards import card_facts
from kpgui.core.state import CurrentModel

SHORTCUTS = [
    ("0 – 9", "keep the drawing as a sample of that digit"),
    ("Ctrl+Z", "undo the last stroke"),
    ("Esc", "clear the canvas"),
    ("Ctrl+I", "import a picture of a digit (or drop it on the canvas)"),
    ("F5 / Shift+F5", "start / stop training"),
    ("Ctrl+O / Ctrl+Shift+S", "open a model / save the current model"),
    ("Ctrl+R", "go back to the shipped model"),
    ("Ctrl+M", "model info"),
    (
        "Ctrl+Shift+T, H, E, W, N, D",
        "show the Training, History, Evaluation, Weights, How it sees, My digits tab",
    ),
    ("Ctrl+Shift+I", "show the Inside tab (every layer on your drawing; Fool it)"),
    ("Ctrl+Shift+L", "show the Lessons tab"),
    ("F1", "this help"),
]

TABS = [
    (
        "Drawing",
        "Draw a digit with the mouse or a pen. The network reads it while you draw: the "
        "28x28 picture it sees, its answer, and its probability for each digit. When it is not "
        "sure it says so, with its two best guesses — a scribble or a letter should be 'not sure'. "
        "<i>Show saliency</i> colours the pixels that pushed it towards its answer.",
    ),
    (
        "Training",
        "Choose the network (hidden layers, activation, dropout), the data (how many "
        "MNIST images, augmentation, drawn styles, non-digits) and the training (optimizer, "
        "learning rate, batch size, epochs, validation split, early stopping), then Start. Loss and "
        "accuracy are plotted live; under them, each layer's gradient norm, how far its weights "
        "move per batch, and its share of dead ReLU units (zero for every probe image: they no "
        "longer learn) — <i>Dying ReLUs vs healthy</i> shows them die. When the run ends, the new "
        "model is offered above the canvas beside the current one: keep it or discard it. The status "
        "line says what trains (e.g. <i>CPU (JAX)</i>); Model → Training backend chooses the Keras "
        "backend, and Model → Keep a training process ready makes Start begin within a second.",
    ),
    (
        "History",
        "Every run, from the window or from <code>kpgui train</code>. Tick runs to draw "
        "their curves over the Training plots; load, save, rename or delete a run's model.",
    ),
    (
        "Search",
        "Many settings tried at once (Optuna): ranges such as <code>1e-4..1e-1:log</code> or "
        "<code>64/128,128</code>, the rest from the Training form. Trials behind the median after an "
        "epoch are stopped early; each trial is a run in History. Watch a study other machines share "
        "(<code>kpgui search --join</code>); try the best trial as a candidate.",
    ),
    (
        "Evaluation",
        "The current model on the 10 000 MNIST test images: accuracy per digit and the "
        "confusion matrix. Click a cell to see those images; click an image to load it.",
    ),
    (
        "Weights",
        "Each first-layer unit's 784 input weights as a 28x28 picture: red where ink "
        "excites the unit, blue where it inhibits it.",
    ),
    (
        "How it sees",
        "Your drawing's way to the network, step by step: the box around the ink, "
        "scaled into 20x20, drawn with MNIST's 2-pixel stroke, and its centre of mass moved to the "
        "middle of a 28x28 frame — the way the MNIST digits were made.",
    ),
    (
        "Inside",
        "Every layer of the network live on your drawing (or on the digit selected in a "
        "number): the 28x28 input, each hidden layer as a grid of units (colour = how active; "
        "striped = zero for this drawing; grey = dead, zero on every MNIST test digit), and the ten "
        "outputs. The units that carried the answer are outlined, with their share of the push "
        "towards it (click another output to see the path to that digit). Click a unit to see its "
        "incoming weights and the test digits that excite it most. <i>Fool it</i> changes your "
        "digit a little until the network reads the digit you choose, shows the change and says "
        "whether 'not sure' notices; <i>Back to my drawing</i> undoes it.",
    ),
    (
        "My digits",
        "Your own samples (press a digit key after drawing). Relabel, delete, export "
        "or import them, and fine-tune the model on them: some are held out and measured before "
        "and after, so you see whether it really learned your handwriting.",
    ),
    (
        "One weight",
        "The primer's smallest network: one input, one weight, one goal. Step, Play "
        "or Reset the loop (prediction = input × weight, error = (prediction − goal)², weight −= "
        "alpha × input × (prediction − goal)) and watch the weight go down the parabola of the "
        "error. Each step multiplies the distance to the best weight by |1 − alpha·input²|: above 1 "
        "it overshoots and diverges; with input 0 nothing ever moves. <code>kpgui lesson "
        "one-weight</code> prints the same table.",
    ),
    (
        "Lessons",
        "A guided tour of the Keras workflow, step by step: each step arranges the window "
        "(its tab, a small training form, the controls it talks about) and ends with something to "
        "try, which kpgui notices when you have done it. File → Open lesson… follows a lesson file "
        "a teacher wrote.",
    ),
]


def help_html() -> str:
    rows = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in SHORTCUTS)
    tabs = "".join(f"<h3>{t}</h3><p>{text}</p>" for t, text in TABS)
    return (
        "<h2>kpgui — draw a digit, watch a network read it</h2>"
        f"{tabs}<h3>Keys</h3><table cellspacing='6'>{rows}</table>"
        "<p>Your runs and samples live in kpgui's data folder; <code>kpgui runs</code> and "
        "<code>kpgui samples</code> show them on the command line; Model → Show run as Keras "
        "code… (and <code>kpgui runs --code ID</code>) writes a run as a plain Keras script.</p>"
    )


def model_info_html(model: CurrentModel | None) -> str:
    """The current model in words: where it came from, its file, accuracy, training, calibration."""
    if model is None:
        return "<p>No model is loaded. Use Model → Reset to default, or open or train one.</p>"
    p = model.predictor
    rows = [
        ("Source", model.source),
        ("File", str(p.path) if p.path else "not saved"),
        ("Runs on", "NumPy (fast, no TensorFlow)" if p.backend == "numpy" else "Keras"),
    ]
    if model.run_id is not None:
        rows.append(("History run", str(model.run_id)))
    rows += card_facts(p.card or {})
    body = "".join(
        f"<tr><td valign='top'><b>{html.escape(k)}</b></td><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<h3>{html.escape(p.name)}</h3><table cellspacing='6'>{body}</table>"
