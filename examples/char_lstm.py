"""A character-level LSTM language model, written as the classic PyTorch example is.

    python examples/char_lstm.py                      # the stdlib source, about 5 CPU minutes
    python examples/char_lstm.py --data notes.txt --temperature 0.5

The model embeds each character, runs a 2-layer `nn.LSTM` over the sequence and predicts the
next character with a linear layer. Training is truncated backpropagation through time: the
text is cut into `--batch-size` parallel streams, each step trains on the next `--bptt`
characters of every stream, and the hidden state is carried over to the next step but
detached from its graph, so gradients stop at the window's start. Gradients are clipped
(`clip_grad_norm_`) and Adam updates the weights. At the end it samples text from a prompt,
dividing the logits by `--temperature` (lower: more conservative).

Text: the Python standard library's own source (`stdlib_text.py`), or `--data FILE`; nothing
is downloaded. Only the imports differ from the PyTorch program: `sg` stands where `torch`
would. With the defaults (230,000 parameters, 1,000 steps of 32 x 64 characters, about 300
seconds of one CPU core) the validation loss is about 1.86 nats/char (a uniform guess over
the 96 characters scores ln 96 = 4.56), and samples look like Python:
`def self._sef.__read_erd(self):`.
"""

import argparse
import math
import time

from stdlib_text import read_text

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", type=str, default=None, help="a text file or folder (default: the stdlib source)")
parser.add_argument("--max-chars", type=int, default=500_000, help="characters of text to read")
parser.add_argument("--emsize", type=int, default=32, help="size of the character embeddings")
parser.add_argument("--nhid", type=int, default=128, help="hidden units per layer")
parser.add_argument("--nlayers", type=int, default=2, help="LSTM layers")
parser.add_argument(
    "--dropout", type=float, default=0.1, help="dropout on the embeddings, between layers and on the output"
)
parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate")
parser.add_argument("--clip", type=float, default=1.0, help="gradient clipping (max total norm)")
parser.add_argument("--steps", type=int, default=1000, help="training steps (windows of --bptt characters)")
parser.add_argument("--batch-size", type=int, default=32, help="parallel streams of text")
parser.add_argument("--bptt", type=int, default=64, help="characters per step (the truncation length)")
parser.add_argument("--log-interval", type=int, default=100, help="steps between reports")
parser.add_argument("--eval-batches", type=int, default=20, help="validation windows per evaluation")
parser.add_argument("--prompt", type=str, default="def ", help="the text that sampling continues")
parser.add_argument("--chars", type=int, default=300, help="characters to sample")
parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (> 0)")
parser.add_argument("--seed", type=int, default=1111)
parser.add_argument("--device", type=str, default="cpu", help="cpu or cuda")
args = parser.parse_args()
if args.temperature <= 0:
    parser.error("--temperature has to be greater than 0")

sg.manual_seed(args.seed)
device = sg.device(args.device)

###############################################################################
# Load data
###############################################################################

text = read_text(args.data, args.max_chars)
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
ntokens = len(chars)
ids = sg.tensor([stoi[c] for c in text], dtype=sg.int64)
split = int(0.9 * len(ids))
print(f"{len(text):,} characters, vocabulary {ntokens}, {split:,} for training")


def batchify(data, bsz):
    # Cut the text into bsz streams, one per column: (len(data) // bsz, bsz).
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).transpose(0, 1).contiguous()
    return data.to(device)


train_data = batchify(ids[:split], args.batch_size)
val_data = batchify(ids[split:], 10)
if train_data.size(0) < 2 or val_data.size(0) < 2:
    raise SystemExit("error: not enough text for this --batch-size")

###############################################################################
# Build the model
###############################################################################


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> linear decoder: (L, N) character ids -> (L * N, ntoken) logits."""

    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        return decoded.view(-1, self.ntoken), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))


model = CharLSTM(ntokens, args.emsize, args.nhid, args.nlayers, args.dropout).to(device)
optimizer = sg.optim.Adam(model.parameters(), lr=args.lr)
criterion = nn.CrossEntropyLoss()
print(f"model: {sum(p.numel() for p in model.parameters()):,} parameters")

###############################################################################
# Training code
###############################################################################


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, sg.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    # The window of bptt characters at row i, and the same shifted by one: the targets.
    seq_len = min(args.bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


def evaluate(data_source):
    model.eval()
    total_loss, count = 0.0, 0
    hidden = model.init_hidden(data_source.size(1))
    with sg.no_grad():
        for batch, i in enumerate(range(0, data_source.size(0) - 1, args.bptt)):
            if batch == args.eval_batches:
                break
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            total_loss += len(data) * criterion(output, targets).item()
            count += len(data)
    return total_loss / count


def train():
    model.train()
    hidden = model.init_hidden(args.batch_size)
    i, total_loss, start_time = 0, 0.0, time.time()
    for step in range(1, args.steps + 1):
        if i >= train_data.size(0) - 1:  # a new pass over the text starts with a fresh state
            i, hidden = 0, model.init_hidden(args.batch_size)
        data, targets = get_batch(train_data, i)
        i += args.bptt
        # Starting each batch, we detach the hidden state from how it was previously produced.
        # If we didn't, the model would try backpropagating all the way to start of the dataset.
        hidden = repackage_hidden(hidden)
        optimizer.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()

        total_loss += loss.item()
        if step % args.log_interval == 0 or step == args.steps:
            count = args.log_interval if step % args.log_interval == 0 else step % args.log_interval
            cur_loss = total_loss / count
            elapsed = time.time() - start_time
            print(
                f"| step {step:5d}/{args.steps:5d} | ms/step {elapsed * 1000 / count:6.1f} | "
                f"loss {cur_loss:5.3f} | ppl {math.exp(cur_loss):7.2f}"
            )
            total_loss, start_time = 0.0, time.time()


def sample(prompt, nchars, temperature):
    """Continue `prompt` by nchars characters, drawing each from softmax(logits / temperature)."""
    model.eval()
    hidden = model.init_hidden(1)
    known = [stoi[c] for c in prompt if c in stoi] or [0]
    out = [chars[k] for k in known]
    with sg.no_grad():
        input = sg.tensor(known, dtype=sg.int64, device=device).view(-1, 1)
        for _ in range(nchars):
            output, hidden = model(input, hidden)
            char_weights = F.softmax(output[-1] / temperature, dim=-1).cpu()
            char_idx = sg.multinomial(char_weights, 1)[0]
            out.append(chars[int(char_idx)])
            input = char_idx.view(1, 1).to(device)
    return "".join(out)


train()
val_loss = evaluate(val_data)
print(f"| end of training | valid loss {val_loss:5.3f} | valid ppl {math.exp(val_loss):8.2f}")
print(f"sample (temperature {args.temperature}):")
print(sample(args.prompt, args.chars, args.temperature))
