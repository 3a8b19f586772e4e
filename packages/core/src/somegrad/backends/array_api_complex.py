"""Array API kernels for complex numbers and dtype views: conj, real, imag, complex,
view_as_real, view_as_complex and `Tensor.view(dtype)`; merged into the shared table through
`array_api_spectral`.

Views are made where the library's arrays can reinterpret their memory (NumPy's and CuPy's
`.view(dtype)`), and copies elsewhere: dispatch asks the arrays whether a result aliases.
"""

from __future__ import annotations

from somegrad import dtypes


def kernels(xp, native) -> dict:
    """{op name: kernel} over the Array API namespace `xp`."""

    def conj(x):
        return xp.conj(x)

    def real(x):
        return xp.real(x)

    def imag(x):
        return xp.imag(x)

    def complex_(real, imag):
        shape = tuple(xp.broadcast_arrays(real, imag)[0].shape)
        target = native(dtypes.to_complex(_dtype_of(real)))
        out = xp.zeros(shape, dtype=target)
        try:
            # written part by part: `real + 1j * imag` would turn an infinite imag into NaN + inf j
            out.real[...] = real
            out.imag[...] = imag
            return out
        except (AttributeError, TypeError, ValueError):  # arrays without writable parts
            return xp.astype(real, target) + xp.astype(imag, target) * 1j

    def _dtype_of(array):
        return dtypes.from_name(str(getattr(array.dtype, "name", array.dtype)).rsplit(".", 1)[-1])

    def _reinterpret(x, dtype):
        """`x`'s memory read as `dtype` (NumPy's and CuPy's `.view`; other CPU arrays through
        DLPack and NumPy), or None where not possible."""
        view = getattr(x, "view", None)
        try:
            if view is not None:
                return view(native(dtype)).reshape(()) if x.ndim == 0 else view(native(dtype))
            if hasattr(x, "__dlpack__") and hasattr(xp, "from_dlpack"):
                import numpy as np

                # a copy where the array's layout allows no view (its library reports none)
                host = np.from_dlpack(x)
                host = host if host.flags.c_contiguous else host.copy(order="C")
                if host.ndim == 0:
                    return xp.reshape(xp.from_dlpack(host.reshape((1,)).view(np.dtype(dtype.name))), ())
                return xp.from_dlpack(host.view(np.dtype(dtype.name)))
        except (TypeError, ValueError, RuntimeError, BufferError, AttributeError):
            return None
        return None

    def view_as_real(x):
        part = dtypes.to_real(_dtype_of(x))
        flat = _reinterpret(x.reshape((1,)) if x.ndim == 0 else x, part)
        if flat is not None:
            return flat.reshape(tuple(x.shape) + (2,))
        return xp.stack([xp.real(x), xp.imag(x)], axis=-1)

    def view_as_complex(x):
        whole = _reinterpret(x, dtypes.to_complex(_dtype_of(x)))
        if whole is not None:
            return whole.reshape(tuple(x.shape[:-1]))
        return complex_(x[..., 0], x[..., 1])

    def view_dtype(x, dtype):
        out = _reinterpret(x, dtype)
        if out is None:
            raise NotImplementedError(f"view(dtype): this backend's arrays cannot be reinterpreted as {dtype.name}")
        return out

    return {
        "conj": conj,
        "real": real,
        "imag": imag,
        "complex": complex_,
        "view_as_real": view_as_real,
        "view_as_complex": view_as_complex,
        "view_dtype": view_dtype,
    }
