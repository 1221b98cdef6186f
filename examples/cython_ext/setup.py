"""Builds the cython_ext module in place: python setup.py build_ext --inplace
(Cython finds optkern/capi.pxd in the installed optkern package)."""

from Cython.Build import cythonize
from setuptools import setup

setup(name="cython_ext", ext_modules=cythonize("cython_ext.pyx"))
