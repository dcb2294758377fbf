import numpy as np
import numpy.typing as npt

ACTIVATION_COUNT: int
_Floats = npt.NDArray[np.float32] | npt.NDArray[np.float64]

def activation(id: int, param: float, z: _Floats, out: _Floats, derivative: bool) -> None: ...
