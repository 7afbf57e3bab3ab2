"""DESIGN.md's example plugin, as its own installable package: upper-cases a text file."""
from pyramid_jobs import Processor, hookimpl


class Shout(Processor):
    name = "shout"
    extensions = (".shout",)
    media_types = ("text/plain",)
    steps = ("Read", "Shout")
    description = "Upper-cases a text file."

    def process(self, ctx):
        with ctx.step("Read", total=1) as step:
            text = ctx.path.read_text()
            step.advance()
        with ctx.step("Shout", total=1) as step:
            ctx.artifact("shout.txt").write_text(text.upper())
            step.advance(message="done")
        return {"characters": len(text)}


@hookimpl
def jobs_register_processors():
    return [Shout()]
