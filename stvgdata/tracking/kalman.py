"""A constant-velocity Kalman filter on one box, in pixels.

State (8,): centre and size ``(cx, cy, w, h)`` and their velocities ``(vx, vy, vw, vh)`` in
pixels per frame. The noise is scale-adaptive (as in SORT/DeepSORT): every standard deviation is
a fraction of the box's current width (for cx, w) or height (for cy, h), so one setting serves
a 20 px and a 200 px object alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.geometry import CXCYWH_TO_XYXY, XYXY_TO_CXCYWH

MIN_SIZE_PX = 1.0
"""Width and height never go below this, whatever the size velocity says."""


@dataclass(frozen=True)
class KalmanConfig:
    """Standard deviations, each a fraction of the box's width (x, w) or height (y, h)."""

    measurement_std: float = 0.05
    """Detector noise on the measured centre and size."""
    position_std: float = 0.1
    """Per frame: change of centre and size that the velocity does not explain."""
    velocity_std: float = 0.02
    """Per frame: change of velocity (how far motion may depart from constant velocity)."""
    initial_velocity_std: float = 0.3
    """Velocity is unknown at birth: per frame, up to about this fraction of the size."""


class BoxKalman:
    """One box's filter: ``predict(dt)`` moves it ``dt`` frames on, ``update(box)`` corrects
    it with a detection. ``box`` is the current estimate as pixel xyxy (4,)."""

    def __init__(self, box_xyxy: np.ndarray, config: KalmanConfig = KalmanConfig()) -> None:
        self.config = config
        measured = XYXY_TO_CXCYWH @ np.asarray(box_xyxy, dtype=np.float64)
        self.mean = np.concatenate([measured, np.zeros(4)])  # (8,)
        scale = self._scale()
        self.cov = np.diag(
            np.concatenate(
                [(config.measurement_std * scale) ** 2, (config.initial_velocity_std * scale) ** 2]
            )
        )  # (8, 8)

    def _scale(self) -> np.ndarray:
        """(4,) the width or height each of cx, cy, w, h is measured against, in pixels."""
        w, h = np.maximum(self.mean[2:4], MIN_SIZE_PX)
        return np.array([w, h, w, h])

    @property
    def box(self) -> np.ndarray:
        centre_size = self.mean[:4].copy()
        centre_size[2:] = np.maximum(centre_size[2:], MIN_SIZE_PX)
        return CXCYWH_TO_XYXY @ centre_size

    def predict(self, dt: float = 1.0) -> np.ndarray:
        """Move the estimate ``dt`` frames on (dt may be negative when running backwards in
        time); returns the predicted box."""
        scale = self._scale()
        process_var = np.concatenate(
            [(self.config.position_std * scale) ** 2, (self.config.velocity_std * scale) ** 2]
        )
        self.mean[:4] += dt * self.mean[4:]
        # cov <- F cov F^T with F = [[I, dt I], [0, I]]: rows, then columns, in place.
        self.cov[:4, :] += dt * self.cov[4:, :]
        self.cov[:, :4] += dt * self.cov[:, 4:]
        self.cov.flat[::9] += abs(dt) * process_var
        return self.box

    def update(self, box_xyxy: np.ndarray) -> np.ndarray:
        """Correct the estimate with a measured box; returns the corrected box."""
        measured = XYXY_TO_CXCYWH @ np.asarray(box_xyxy, dtype=np.float64)
        noise = np.diag((self.config.measurement_std * self._scale()) ** 2)
        innovation_cov = self.cov[:4, :4] + noise  # H P H^T + R, with H = [I 0]
        gain = np.linalg.solve(innovation_cov, self.cov[:4, :]).T  # (8, 4) = P H^T S^-1
        self.mean = self.mean + gain @ (measured - self.mean[:4])
        self.cov = self.cov - gain @ self.cov[:4, :]
        return self.box
