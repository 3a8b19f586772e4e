"""A character bigram language model, first by counting, then the same as a one-layer network.

    python examples/02_bigram.py

Text: the first 1,000,000 characters of the Python standard library's source (90% train, 10%
validation). Counting the train bigrams (with add-one smoothing) gives a validation loss of about
2.25 nats/char, against 3.01 for the unigram model that ignores the previous character. A
single weight matrix W (vocab x vocab), where row W[previous char] holds the logits of the next
one, trained with Adam on the cross-entropy, learns the same table: it reaches the counts' 2.25
nats/char (to within 0.01) in 300 steps, about 5 seconds.
"""

import argparse
import math

from stdlib_text import read_text

import somegrad as sg

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--chars", type=int, default=1_000_000, help="characters of text to use")
parser.add_argument("--steps", type=int, default=300, help="gradient descent steps (default 300)")
parser.add_argument("--batch-size", type=int, default=8192)
parser.add_argument("--lr", type=float, default=0.1, help="Adam's learning rate")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
sg.manual_seed(args.seed)

text = read_text(max_chars=args.chars)
chars = sorted(set(text))
vocab = len(chars)
stoi = {c: i for i, c in enumerate(chars)}
data = sg.tensor([stoi[c] for c in text], dtype=sg.int64)
split = int(0.9 * len(data))
train, val = data[:split], data[split:]
print(f"{len(text):,} characters, vocabulary of {vocab}")

# 1. Counting: N[a, b] = how often b follows a. Add-one smoothing keeps unseen pairs possible.
pair_index = train[:-1] * vocab + train[1:]
counts = sg.zeros(vocab * vocab).scatter_add(0, pair_index, sg.ones(len(pair_index)))
counts = counts.reshape(vocab, vocab) + 1
probs = counts / counts.sum(dim=1, keepdim=True)


def nll(log_probs_of_next, previous, following):
    """Mean negative log-likelihood (nats/char) of `following` given `previous`."""
    return -log_probs_of_next[previous, following].mean().item()


unigram = counts.sum(dim=1)  # how often each character occurs (plus the smoothing)
unigram_loss = -(unigram / unigram.sum()).log()[val].mean().item()
count_loss = nll(probs.log(), val[:-1], val[1:])
print(f"unigram model:        val loss {unigram_loss:.3f} nats/char")
print(f"bigram by counting:   val loss {count_loss:.3f} nats/char")

# 2. The same model as a network: logits = one_hot(previous) @ W, which is row W[previous].
W = (0.01 * sg.randn(vocab, vocab)).requires_grad_()
m, v = sg.zeros_like(W), sg.zeros_like(W)  # Adam's moments, written out
for step in range(1, args.steps + 1):
    i = sg.randint(0, len(train) - 1, (args.batch_size,))
    log_probs = W[train[i]].log_softmax(dim=-1)
    loss = -log_probs[sg.arange(args.batch_size), train[i + 1]].mean()
    W.grad = None
    loss.backward()
    with sg.no_grad():
        m.mul_(0.9).add_(0.1 * W.grad)
        v.mul_(0.999).add_(0.001 * W.grad.square())
        m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
        W -= args.lr * m_hat / (v_hat.sqrt() + 1e-8)
    if step % 100 == 0 or step == 1:
        print(f"step {step:4d}  train loss {loss.item():.3f}")

with sg.no_grad():
    net_loss = nll(W.log_softmax(dim=-1), val[:-1], val[1:])
print(
    f"bigram as a network:  val loss {net_loss:.3f} nats/char "
    f"({net_loss - count_loss:+.3f} vs counting; unigram {unigram_loss:.3f}, "
    f"uniform {math.log(vocab):.3f})"
)
