"""The classic PyTorch MNIST convolutional network, ported by changing its imports only.

    python examples/06_mnist_cnn.py                        # synthetic digits, one epoch
    python examples/06_mnist_cnn.py --data ~/mnist         # the real MNIST IDX files in that folder

The model, the training and test loops, Adadelta with StepLR, the log lines and the options are
those of the well-known PyTorch example (two 3x3 convolutions, max-pooling, dropout, two linear
layers, log_softmax with nll_loss; `--dry-run` stops after one batch). The body below reads
`torch.`, `nn.`, `F.` and `optim.` as the original does: the imports bind those names to somegrad.

Nothing is downloaded. With `--data DIR` it reads the four standard MNIST IDX files
(`somegrad.data.MNIST`); without it, it trains on synthetic 28x28 digits: ten fixed random stroke
patterns, one per class, randomly shifted by up to 3 pixels and blurred with noise. One epoch on
6,000 of them (batch 64) reaches over 95% test accuracy in about a minute on two cores.
"""

import argparse

import numpy as np

import somegrad as torch
import somegrad.nn as nn
import somegrad.nn.functional as F
import somegrad.optim as optim
from somegrad.optim.lr_scheduler import StepLR
from somegrad.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            seen, total, percent = (
                batch_idx * len(data),
                len(train_loader.dataset),
                100.0 * batch_idx / len(train_loader),
            )
            print(f"Train Epoch: {epoch} [{seen}/{total} ({percent:.0f}%)]\tLoss: {loss.item():.6f}")
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    accuracy = 100.0 * correct / len(test_loader.dataset)
    print(
        f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)} ({accuracy:.0f}%)\n"
    )
    return accuracy


# --- data: the only part that is not the original (it used torchvision's downloader) -----------------
MEAN, STD = 0.1307, 0.3081  # the original's Normalize((0.1307,), (0.3081,))


def synthetic_digits(n, seed):
    """`n` 28x28 images in [0, 1] and their labels: each class a fixed pattern of random strokes
    (the same for every seed), shifted, blurred and noised per image."""
    patterns = np.zeros((10, 28, 28))
    strokes = np.random.default_rng(12345)
    for c in range(10):
        for _ in range(4):
            r0, c0, r1, c1 = strokes.integers(6, 22, size=4)
            for t in np.linspace(0, 1, 40):
                r, q = int(round(r0 + t * (r1 - r0))), int(round(c0 + t * (c1 - c0)))
                patterns[c, r - 1 : r + 2, q - 1 : q + 2] = 1.0
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    shifts = rng.integers(-3, 4, size=(n, 2))
    images = np.stack([np.roll(patterns[y], tuple(s), axis=(0, 1)) for y, s in zip(labels, shifts)])
    images = 0.7 * images + 0.3 * rng.uniform(size=images.shape) * (rng.uniform(size=(n, 1, 1)) < 0.5)
    return np.clip(images + rng.normal(0, 0.1, size=images.shape), 0, 1), labels


def datasets(args):
    if args.data:
        from somegrad.data import MNIST

        train_set, test_set = MNIST(args.data, train=True), MNIST(args.data, train=False)
        to_arrays = lambda ds: (ds.data.astype(np.float64) / 255.0, ds.targets)  # noqa: E731
        (train_x, train_y), (test_x, test_y) = to_arrays(train_set), to_arrays(test_set)
    else:
        train_x, train_y = synthetic_digits(args.train_size, seed=1)
        test_x, test_y = synthetic_digits(args.test_size, seed=2)

    def as_dataset(x, y):
        x = ((x - MEAN) / STD).astype(np.float32)[:, None]
        return TensorDataset(torch.tensor(x), torch.tensor(y, dtype=torch.int64))

    return as_dataset(train_x, train_y), as_dataset(test_x, test_y)


def main():
    # Training settings
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="input batch size for training")
    parser.add_argument("--test-batch-size", type=int, default=1000, metavar="N", help="input batch size for testing")
    parser.add_argument("--epochs", type=int, default=1, metavar="N", help="number of epochs to train (default: 1)")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR", help="learning rate (default: 1.0)")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M", help="Learning rate step gamma")
    parser.add_argument("--no-accel", action="store_true", help="disables accelerator")
    parser.add_argument("--dry-run", action="store_true", help="quickly check a single pass")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N", help="batches between logs")
    parser.add_argument("--save-model", action="store_true", help="For Saving the current Model")
    parser.add_argument("--data", default=None, help="a folder with the MNIST IDX files (default: synthetic)")
    parser.add_argument("--train-size", type=int, default=6000, help="synthetic training images")
    parser.add_argument("--test-size", type=int, default=1000, help="synthetic test images")
    parser.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    args = parser.parse_args()

    use_accel = not args.no_accel and torch.accelerator.is_available()

    torch.manual_seed(args.seed)

    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    train_kwargs = {"batch_size": args.batch_size}
    test_kwargs = {"batch_size": args.test_batch_size}
    if use_accel:
        accel_kwargs = {"num_workers": 1, "persistent_workers": True, "pin_memory": True, "shuffle": True}
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)
    else:
        train_kwargs.update({"shuffle": True, "num_workers": args.num_workers})

    dataset1, dataset2 = datasets(args)
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        accuracy = test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")
    print(f"final accuracy {accuracy:.2f}%")


if __name__ == "__main__":
    main()
