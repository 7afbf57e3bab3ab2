from setuptools import setup

setup(
    name="shout_plugin",
    version="1.1",
    packages=["shout_plugin"],
    package_data={"shout_plugin": ["templates/*.jinja2", "static/*"]},
    install_requires=["pyramid_jobs"],
    entry_points={"pyramid_jobs": ["shout = shout_plugin"]},
)
