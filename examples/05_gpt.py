"""Step 5 of the ladder: the character-level GPT, which is `examples/gpt.py` (`hatch run gpt`).

    python examples/05_gpt.py --help          # the same flags as gpt.py

A 4-layer transformer (813,824 parameters, context 64) trained on the Python standard library's
source goes well below the unigram entropy of the text and writes code-shaped samples; see the
docstring of gpt.py and README.md for the measured figures.
"""

from gpt import main

if __name__ == "__main__":
    main()
