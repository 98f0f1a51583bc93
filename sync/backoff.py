"""Backoff as a value: min, x2, jitter 0.8-1.4, capped; reset on success."""

import random


class Backoff:
    def __init__(self, minimum=0.5, maximum=30.0, factor=2.0, rng=random.random):
        self.minimum, self.maximum, self.factor = minimum, maximum, factor
        self._rng = rng
        self._current = 0.0

    def failure(self):
        """The delay before the next attempt after one more failure."""
        self._current = min(self.maximum, max(self.minimum, self._current * self.factor))
        return self._current * (0.8 + 0.6 * self._rng())

    def success(self):
        self._current = 0.0

    @property
    def failing(self):
        return self._current > 0
