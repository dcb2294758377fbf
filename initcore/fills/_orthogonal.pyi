import numpy as np
import numpy.typing as npt

def haar(out: npt.NDArray[np.float32] | npt.NDArray[np.float64], key: int, position: int, gain: float) -> None: ...
