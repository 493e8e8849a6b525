"""The parts of each notebook that are not the reference solution: instructions and demos.

Demos only use functions defined in their own notebook, or parts loaded with
`autograder.notebook.load_parts` (your .py files, or another package by RNN_KIT_IMPL).
A cell kind ending in "*" ("markdown*", "code*") goes into the student notebooks only,
not into the nbgrader release: it needs other parts' files, or it takes long to run.
Every demo's code runs inside ``with demo():`` (`_guarded`), so a fresh notebook runs to
its end: each demo whose functions are not written yet says so in one line.
"""
import textwrap

HOW_TO = """\
**How to work here.** Each cell that says `YOUR CODE HERE` is yours: replace the
`raise NotImplementedError(...)` line with code that does what the message says. Keep the
input checks above it; they give the same errors as the reference. Run the cells from
the top. The check cell near the end tells you what is right, what is wrong and where to
look. The demos after it use your functions: until those are written, each demo prints
one line naming the function it waits for, and the notebook goes on. Shapes are
batch-first: `x_t` is (N, D), `h` is (N, H), a sequence `x` is (N, T, D). Weights
multiply on the right: `x @ Wx`.
"""

_PLOT_SETUP = """\
import numpy as np
import matplotlib.pyplot as plt
"""


def _guarded(body, setup=_PLOT_SETUP, imports="demo"):
    """A demo cell: `setup`, then `body` inside ``with demo():``.

    A function the student has not written yet skips the rest of the block with one
    printed line, so "Run All" goes on to the end (autograder.notebook.demo).
    """
    return (setup + f"from autograder.notebook import {imports}\n\n"
            "with demo():  # a function you have not written yet skips this demo, in one line\n"
            + textwrap.indent(body.strip("\n"), "    ") + "\n")


DEMOS = {
    "feedforward": [
        ("markdown", """\
## See it: one detector per slot versus one detector for every slot
Both layers below look for the same pattern. The slotwise layer has its own random
weights for each position, so its response changes as the pattern moves. The shared
detector applies the same weights everywhere, so its response is the same at every
position."""),
        ("code", _guarded("""\
rng = np.random.default_rng(0)
T, D, H = 8, 4, 5
pattern = rng.standard_normal(D)
slot = slotwise_responses(rng.standard_normal((T * D, H)), np.zeros(H), pattern, T)
shared = shared_responses(rng.standard_normal((D, H)), np.zeros(H), pattern, T)
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for ax, data, title in zip(axes, (slot, shared), ("slotwise (flattened input)", "shared detector")):
    ax.imshow(data, aspect="auto", cmap="coolwarm", vmin=-1, vmax=1)
    ax.set(title=title, xlabel="hidden unit", ylabel="pattern position t")
plt.tight_layout()
plt.show()""")),
    ],
    "rnn": [
        ("markdown", """\
## See it: the state remembers order
An average cannot tell a sequence from its reverse. The RNN's final state can, because
each step sees the state left by the steps before it."""),
        ("code", _guarded("""\
rng = np.random.default_rng(1)
N, T, D, H = 1, 12, 3, 6
x = rng.standard_normal((N, T, D))
Wx, Wh, b = rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H), np.zeros(H)
h0 = np.zeros((N, H))
forward_states = rnn_forward(x, h0, Wx, Wh, b)
reverse_states = rnn_forward(x[:, ::-1], h0, Wx, Wh, b)
print("mean of x and of reversed x equal:", np.allclose(x.mean(axis=1), x[:, ::-1].mean(axis=1)))
print("final RNN states equal:           ", np.allclose(forward_states[:, -1], reverse_states[:, -1]))
plt.figure(figsize=(7, 3))
plt.plot(forward_states[0])
plt.xlabel("step t"); plt.ylabel("h_t (one line per unit)"); plt.title("the hidden state as the RNN reads")
plt.show()""")),
    ],
    "lstm": [
        ("markdown", """\
## See it: the forget gate decides how long the cell remembers
The same random LSTM is run twice on the same input. The only difference is the bias of
the forget gate. With a large bias, f stays near 1 and the cell keeps what it has. With a
negative bias, the cell empties at every step."""),
        ("code", _guarded("""\
rng = np.random.default_rng(2)
N, T, D, H = 1, 60, 2, 1
x = np.zeros((N, T, D)); x[0, 0] = 1.0
Wx = rng.standard_normal((D, 4 * H)); Wh = 0.1 * rng.standard_normal((H, 4 * H))
plt.figure(figsize=(7, 3))
for forget_bias in (4.0, 0.0, -4.0):
    b = np.zeros(4 * H); b[0:H] = 3.0; b[H:2 * H] = forget_bias   # blocks i, f, g, o
    hs, cs = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), Wx, Wh, b)
    plt.plot(np.abs(cs[0, :, 0]), label=f"forget bias {forget_bias:+}")
plt.yscale("log"); plt.xlabel("step t"); plt.ylabel("|c_t|"); plt.legend(); plt.title("what the cell still holds")
plt.show()""")),
    ],
    "gru": [
        ("markdown", """\
## See it: the update gate decides whether to keep or to replace
With a large update-gate bias, z stays near 1 and h hardly moves. With a negative bias,
h follows the latest input."""),
        ("code", _guarded("""\
rng = np.random.default_rng(3)
N, T, D, H = 1, 40, 1, 1
x = rng.standard_normal((N, T, D))
Wx = rng.standard_normal((D, 3 * H)); Wh = rng.standard_normal((H, 3 * H))
plt.figure(figsize=(7, 3))
for update_bias in (4.0, -4.0):
    bx = np.zeros(3 * H); bx[H:2 * H] = update_bias   # blocks r, z, n
    h0 = np.full((N, H), 0.9)
    plt.plot(gru_forward(x, h0, Wx, Wh, bx, np.zeros(3 * H))[0, :, 0], label=f"update bias {update_bias:+}")
plt.xlabel("step t"); plt.ylabel("h_t"); plt.legend(); plt.title("keep (z ~ 1) or replace (z ~ 0)")
plt.show()""")),
    ],
    "memory": [
        ("markdown*", """\
## See it: how far back can each cell still feel the first input?
This plot uses your `rnn_forward`, `lstm_forward` and `gru_forward` from the earlier
parts (your .py files). Finish those first. A contractive vanilla RNN forgets
geometrically, and so does the hand-latched vanilla RNN, even though it still *holds* the
bit. The gated latches keep the influence flat. A curve stops where the influence falls
below about 1e-12: from there on, a finite difference measures only rounding."""),
        ("code*", _guarded("""\
parts = load_parts()   # your exercises/*.py files
x, bits = make_recall_task(16, 40, seed=0)
N = x.shape[0]
Wx, Wh, b = contractive_rnn_params(3, 8, gain=0.5)
curves = {"contractive RNN": lambda x: parts.rnn.rnn_forward(x, np.zeros((N, 8)), Wx, Wh, b)}
Rx, Rh, Rb, _, _ = latch_rnn_params()
curves["latched RNN"] = lambda x: parts.rnn.rnn_forward(x, np.zeros((N, 3)), Rx, Rh, Rb)
Lx, Lh, Lb, _, _ = latch_lstm_params()
curves["LSTM latch"] = lambda x: parts.lstm.lstm_forward(x, np.zeros((N, 1)), np.zeros((N, 1)), Lx, Lh, Lb)
Gx, Gh, Gbx, Gbh, _, _ = latch_gru_params()
curves["GRU latch"] = lambda x: parts.gru.gru_forward(x, np.zeros((N, 1)), Gx, Gh, Gbx, Gbh)
plt.figure(figsize=(7, 4))
for label, forward in curves.items():
    influence = first_input_influence(forward, x)
    rate = geometric_rate(influence)
    shown = np.where(influence > 1e-12, influence, np.nan)  # below ~1e-12 a finite difference is only rounding
    plt.semilogy(shown, label=f"{label} (x{rate:.2f} per step)")
plt.xlabel("step t"); plt.ylabel("influence of the first input on h_t")
plt.ylim(1e-12, 10); plt.legend(); plt.title("forgetting, measured")
plt.show()""", imports="demo, load_parts")),
        ("markdown*", """\
## Recall after 1,000 distractors
Each cell gets the hand-set latch weights and 1,000 distractor steps. Then the bit is
read out of its final state."""),
        ("code*", _guarded("""\
parts = load_parts()   # your exercises/*.py files
x, bits = make_recall_task(200, 1000, seed=1)
N = x.shape[0]
Lx, Lh, Lb, Ly, Lby = latch_lstm_params()
hs, _ = parts.lstm.lstm_forward(x, np.zeros((N, 1)), np.zeros((N, 1)), Lx, Lh, Lb)
print("LSTM latch:", recall_accuracy(parts.rnn.rnn_readout(hs[:, -1], Ly, Lby), bits))
Gx, Gh, Gbx, Gbh, Gy, Gby = latch_gru_params()
hs = parts.gru.gru_forward(x, np.zeros((N, 1)), Gx, Gh, Gbx, Gbh)
print("GRU latch: ", recall_accuracy(parts.rnn.rnn_readout(hs[:, -1], Gy, Gby), bits))
Rx, Rh, Rb, Ry, Rby = latch_rnn_params()
hs = parts.rnn.rnn_forward(x, np.zeros((N, 3)), Rx, Rh, Rb)
print("RNN latch: ", recall_accuracy(parts.rnn.rnn_readout(hs[:, -1], Ry, Rby), bits))""",
                             setup="import numpy as np\n", imports="demo, load_parts")),
    ],
    "bptt": [
        ("markdown", """\
## See it: how much gradient reaches the first step?
Your `gradient_to_first_step`, with your backward passes, on four cells reading the same
random sequence. The contractive vanilla RNN loses a constant fraction of the gradient at
every step, so after a few dozen steps nothing is left to learn from. The LSTM with its
forget gate held open (bias +8) and the GRU with its update gate held near 1 (bias +8)
pass the gradient back almost whole."""),
        ("code", _guarded("""\
rng = np.random.default_rng(0)
N, T, D, H = 2, 150, 3, 4
x = rng.standard_normal((N, T, D))
zeros = np.zeros((N, H))
curves = {}
Wx, Wh = rng.standard_normal((D, H)) / np.sqrt(D), np.linalg.qr(rng.standard_normal((H, H)))[0]
curves["vanilla RNN, |Wh| = 0.5"] = gradient_to_first_step(rnn_backward, x, (zeros,), (Wx, 0.5 * Wh, np.zeros(H)))
curves["vanilla RNN, orthogonal Wh"] = gradient_to_first_step(rnn_backward, x, (zeros,), (Wx, Wh, np.zeros(H)))
b = np.zeros(4 * H); b[H:2 * H] = 8.0   # blocks i, f, g, o: forget gate open
curves["LSTM, forget bias +8"] = gradient_to_first_step(
    lstm_backward, x, (zeros, zeros), (0.3 * rng.standard_normal((D, 4 * H)), 0.3 * rng.standard_normal((H, 4 * H)), b))
bx = np.zeros(3 * H); bx[H:2 * H] = 8.0  # blocks r, z, n: update gate keeps h
curves["GRU, update bias +8"] = gradient_to_first_step(
    gru_backward, x, (zeros,), (0.3 * rng.standard_normal((D, 3 * H)), 0.3 * rng.standard_normal((H, 3 * H)), bx,
                                np.zeros(3 * H)))
plt.figure(figsize=(7, 4))
for label, norms in curves.items():
    plt.semilogy(np.where(norms > 1e-300, norms, np.nan), label=label)
plt.xlabel("step k of the loss"); plt.ylabel("|d loss_k / d x_0|")
plt.legend(); plt.title("the gradient that reaches the first input")
plt.show()""")),
        ("markdown*", """\
## Train them: which cells learn to remember?
The kit's trainer (`autograder.trainer.train_recall`: Adam, gradient clipping, a
cross-entropy readout of the bit) trains each cell with *your* forward and backward
functions on delayed-recall sequences built by *your* `make_recall_task` (from your
`memory.py`: finish that part first), then measures recall on new sequences. With 10
distractors every cell learns. With 70, the vanilla RNN stays near 50% (a coin toss),
while the LSTM and the GRU learn. This takes about 15 seconds. `rnn-grade experiment`
runs the full table (more gaps and seeds); docs/experiment.md holds its results."""),
        ("code*", _guarded("""\
parts = load_parts()   # your exercises/*.py files: make_recall_task comes from memory.py
cells = {"rnn": (rnn_forward, rnn_backward), "lstm": (lstm_forward, lstm_backward), "gru": (gru_forward, gru_backward)}
gaps, seeds = (10, 70), (0, 1)
results = {}
for gap in gaps:
    x, bits = parts.memory.make_recall_task(1024, gap, seed=71)     # the training checks' sequences
    x_new, bits_new = parts.memory.make_recall_task(512, gap, seed=72)
    for cell, (forward, backward) in cells.items():
        for seed in seeds:
            started = time.perf_counter()
            weights, readout, losses = train_recall(forward, backward, cell, x, bits, seed)
            results[gap, cell, seed] = accuracy(forward, cell, x_new, bits_new, weights, readout)
            print(f"gap {gap:3d}  {cell:4s}  seed {seed}: recall {results[gap, cell, seed]:6.1%} "
                  f"after {len(losses):3d} updates, {time.perf_counter() - started:.1f} s")
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.8 / len(cells)
for k, cell in enumerate(cells):
    for j, seed in enumerate(seeds):
        heights = [results[gap, cell, seed] for gap in gaps]
        ax.bar(np.arange(len(gaps)) + k * width + (j - 0.5) * width / 2, heights, width / 2,
               color=f"C{k}", alpha=1.0 if j == 0 else 0.6, label=cell.upper() if j == 0 else None)
ax.axhline(0.5, color="grey", linestyle=":", label="chance")
ax.set_xticks(np.arange(len(gaps)) + width, [f"gap {gap}" for gap in gaps])
ax.set_ylabel("recall on new sequences"); ax.set_ylim(0, 1.05); ax.legend(loc="lower left")
ax.set_title("trained with your backward passes (one bar per seed)")
plt.show()""", setup=_PLOT_SETUP + "import time\nfrom autograder.trainer import accuracy, train_recall\n",
                   imports="demo, load_parts")),
    ],
    "stepping": [
        ("markdown*", """\
## Time it: what the loop costs on your machine
Your `rnn_forward` from Part 2 (your `rnn.py`: finish that part first), your
`rnn_forward_hoisted` and one call of your `attend` over all T positions, each timed on
this computer for longer and longer sequences (the best of three runs). The numbers are
yours and change from machine to machine and from run to run; nothing here is graded.
Look at the slopes rather than the heights: on a log-log plot, a line of slope 1 means the
time grows in proportion to T. Both loops have that slope, because both still take T steps
in a row. Hoisting does not remove any arithmetic: it turns T small input products into
one large one, which a GPU or a many-core machine can spread out, and leaves less to do
per step. In numpy on a laptop the two loops often take about the same time, since a
small step costs mostly Python's overhead, not arithmetic. `attend` also does work in
proportion to T (a score per position), but in a few large array operations instead of T
small ones in a row, so on long sequences it is far cheaper."""),
        ("code*", _guarded("""\
parts = load_parts()   # your exercises/*.py files: rnn_forward comes from rnn.py
rng = np.random.default_rng(0)
N, D, H = 8, 16, 32
Wx, Wh, b = rng.standard_normal((D, H)) / 4, 0.5 * rng.standard_normal((H, H)) / np.sqrt(H), np.zeros(H)
lengths = [16, 64, 256, 1024, 4096]
runs = {"rnn_forward (Part 2)": lambda x, h0, q, K, V: parts.rnn.rnn_forward(x, h0, Wx, Wh, b),
        "rnn_forward_hoisted": lambda x, h0, q, K, V: rnn_forward_hoisted(x, h0, Wx, Wh, b),
        "attend, once over all T": lambda x, h0, q, K, V: attend(q, K, V)}
walls = {label: [] for label in runs}
for T in lengths:
    x, h0 = rng.standard_normal((N, T, D)), np.zeros((N, H))
    q, K, V = rng.standard_normal((N, H)), rng.standard_normal((N, T, H)), rng.standard_normal((N, T, H))
    for label, run in runs.items():
        best = float("inf")
        for repeat in range(3):
            started = time.perf_counter()
            run(x, h0, q, K, V)
            best = min(best, time.perf_counter() - started)
        walls[label].append(best)
print(f"{'T':>26}" + "".join(f"{T:>10}" for T in lengths))
for label, seconds in walls.items():
    print(f"{label:>26}" + "".join(f"{1e3 * s:>8.2f}ms" for s in seconds))
plt.figure(figsize=(7, 4))
for label, seconds in walls.items():
    plt.loglog(lengths, seconds, "o-", label=label)
plt.xlabel("sequence length T"); plt.ylabel("wall time on this machine (s)")
plt.legend(); plt.title("measured here: the loop grows with T step by step")
plt.show()""", setup=_PLOT_SETUP + "import time\n", imports="demo, load_parts")),
        ("markdown", """\
## Count it: the steps that must wait for each other
Timing depends on the machine. The number of steps that must run one after another does
not: it is what your `sequential_steps` returns. Give a computer as many processors as
you like, and a recurrent network still needs T steps in a row to read T positions,
while a dense layer and attention need one."""),
        ("code", _guarded("""\
lengths = [1, 10, 100, 1000, 10000]
plt.figure(figsize=(7, 4))
for kind, style in zip(("rnn", "feedforward", "attention"), ("o-", "s--", "^:")):
    plt.loglog(lengths, [sequential_steps(kind, T) for T in lengths], style, label=kind)
plt.xlabel("sequence length T"); plt.ylabel("steps that must run one after another")
plt.legend(); plt.title("the dependent chain, counted")
plt.show()""")),
        ("markdown*", """\
## Recall at any distance, and what attention cannot see
Part 3's task again, with your `make_recall_task` (from your `memory.py`) and your
`attention_recall`. For comparison, Part 3's contractive RNN (your `rnn_forward` with
`contractive_rnn_params`) reads the same sequences: its final state is compared with the
final state it reaches when only the written bit is flipped. If the two are the same, no
readout of that state can do better than a coin toss. The last line shuffles the steps
before the query, the write step included, and asks attention again."""),
        ("code*", _guarded("""\
parts = load_parts()   # your exercises/*.py files: make_recall_task from memory.py, rnn_forward from rnn.py
Wx, Wh, b = parts.memory.contractive_rnn_params(3, 8, gain=0.5)
for gap in (10, 1000, 10000):
    x, bits = parts.memory.make_recall_task(64, gap, seed=5)
    flipped = x.copy(); flipped[:, 0, 0] *= -1   # the same sequences with the other bit written
    h0 = np.zeros((len(x), 8))
    moved = np.abs(parts.rnn.rnn_forward(x, h0, Wx, Wh, b)[:, -1] - parts.rnn.rnn_forward(flipped, h0, Wx, Wh, b)[:, -1])
    recalled = np.mean(attention_recall(x) == bits)
    print(f"gap {gap:>6,}: attention recalls {recalled:6.1%};  the contractive RNN's final state moves by "
          f"{moved.max():.1e} when the bit flips")
order = np.argsort(np.random.default_rng(0).random((len(x), x.shape[1] - 1)), axis=1)
shuffled = np.concatenate([np.take_along_axis(x[:, :-1], order[:, :, None], axis=1), x[:, -1:]], axis=1)
print("after shuffling the steps before the query, attention's answers are unchanged:",
      bool(np.all(attention_recall(shuffled) == attention_recall(x))))""", setup="import numpy as np\n",
                             imports="demo, load_parts")),
        ("markdown", """\
## Where this leads
A language model's *context window* is how many positions of a text it can keep in view
at once: the reach of its memory, counted in tokens. For a recurrent network that reach is
bought one step at a time. Everything it still knows about the start has passed through
every update since, and the reading itself cannot be split among processors. Attention
buys it differently: every position is one step away from every other, and all of them
can be read at the same time. The bill comes as work and memory that grow with the
number of pairs of positions, which is why context windows have a size at all. As you saw,
attention on its own has no sense of order. The next lesson gives it one, and builds
models out of nothing but attention."""),
    ],
}
