from setuptools import setup

setup(
    name="shout_plugin",
    version="1.0",
    py_modules=["shout_plugin"],
    install_requires=["pyramid_jobs"],
    entry_points={"pyramid_jobs": ["shout = shout_plugin"]},
)
