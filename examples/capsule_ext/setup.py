"""Builds the capsule_ext module in place: python setup.py build_ext --inplace"""

from setuptools import Extension, setup

setup(name="capsule_ext", ext_modules=[Extension("capsule_ext", ["capsule_ext.c"])])
