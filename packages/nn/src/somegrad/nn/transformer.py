"""nn.Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer), with PyTorch's state-dict names."""

__all__: list[str] = []
