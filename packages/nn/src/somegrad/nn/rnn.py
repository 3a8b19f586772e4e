"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's parameter names."""

__all__: list[str] = []
