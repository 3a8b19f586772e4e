"""An MLP and a small CNN on handwritten digits (scikit-learn's 8x8 `load_digits`).

    pip install scikit-learn      # an optional extra: the script says so when it is missing
    python examples/04_digits.py

1,797 images of 8x8 pixels, 80% train and 20% test (stratified, fixed seed). With 30 epochs of
AdamW each (about a minute in all), the MLP (64-128-10, ReLU) reaches about 97.5% test accuracy
and the CNN (two 3x3 conv + max-pool stages, 16 and 32 channels) about 98% (97.8%, 98.3% and
99.4% with seeds 0, 1 and 2): above the 95% and 97% this example promises.
"""

import argparse

import somegrad as sg
import somegrad.nn.functional as F
from somegrad import nn, optim
from somegrad.data import DataLoader, TensorDataset

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=30, help="epochs per model")
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--lr", type=float, default=2e-3)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

try:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
except ImportError:
    raise SystemExit("04_digits.py needs scikit-learn: pip install scikit-learn") from None

sg.manual_seed(args.seed)
digits = load_digits()
x_tr, x_te, y_tr, y_te = train_test_split(
    digits.images / 16.0, digits.target, test_size=0.2, stratify=digits.target, random_state=args.seed
)
x_train = sg.tensor(x_tr, dtype=sg.float32).unsqueeze(1)  # (N, 1, 8, 8)
x_test = sg.tensor(x_te, dtype=sg.float32).unsqueeze(1)
y_train, y_test = sg.tensor(y_tr, dtype=sg.int64), sg.tensor(y_te, dtype=sg.int64)
print(f"{len(x_train)} train and {len(x_test)} test images of 8x8 pixels")

mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),  # (N, 16, 4, 4)
    nn.Conv2d(16, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),  # (N, 32, 2, 2)
    nn.Flatten(),
    nn.Linear(32 * 2 * 2, 10),
)


def train(model):
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    opt = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 10 == 0 or epoch == args.epochs:
            print(f"  epoch {epoch:3d}  loss {loss.item():.4f}  test accuracy {accuracy(model):.2%}")
    return accuracy(model)


@sg.no_grad()
def accuracy(model):
    model.eval()
    return (model(x_test).argmax(dim=1) == y_test).float().mean().item()


results = {}
for name, model in [("MLP", mlp), ("CNN", cnn)]:
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{name} ({n_params:,} parameters)")
    results[name] = train(model)
for name, acc in results.items():
    print(f"{name}: test accuracy {acc:.2%}")
