"""Linear regression by gradient descent: recover known coefficients from noisy data.

    python examples/01_linear_regression.py

Data: 1,000 points x in R^3, y = x @ [2.0, -3.4, 1.5] + 4.2 + noise (std 0.01). Plain gradient
descent on the mean squared error, written with tensors and autograd only, recovers the weights
and the bias to within 0.01 in 200 steps (final loss about 1e-4, the noise variance), in well
under a second.
"""

import argparse

import somegrad as sg

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=200, help="gradient descent steps (default 200)")
parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
sg.manual_seed(args.seed)

true_w, true_b = sg.tensor([2.0, -3.4, 1.5]), 4.2
x = sg.randn(1000, 3)
y = x @ true_w + true_b + 0.01 * sg.randn(1000)

w = sg.zeros(3, requires_grad=True)
b = sg.zeros(1, requires_grad=True)
for step in range(args.steps):
    loss = ((x @ w + b - y).square()).mean()
    w.grad = b.grad = None
    loss.backward()
    with sg.no_grad():
        w -= args.lr * w.grad
        b -= args.lr * b.grad
    if step % 50 == 0 or step == args.steps - 1:
        print(f"step {step:4d}  loss {loss.item():.6f}")

error = max((w - true_w).abs().max().item(), abs(b.item() - true_b))
print(f"learned w = {[round(v, 3) for v in w.tolist()]}, b = {b.item():.3f}")
print(f"true    w = {true_w.tolist()}, b = {true_b}")
print(f"largest error: {error:.4f}")
