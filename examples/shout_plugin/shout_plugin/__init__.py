"""The example plugin, as its own installable package: upper-cases a text file.

It shows everything a processor can bring: its steps, an option, a limit of its own (with a
default that ``jobs.limit.max_shout_chars`` changes), and its own result template and stylesheet.
"""
from pyramid_jobs import Option, ProcessingError, Processor, hookimpl


class Shout(Processor):
    name = "shout"
    extensions = (".shout",)
    media_types = ("text/plain",)
    steps = ("Read", "Shout")
    description = "Upper-cases a text file."
    options = (Option("exclaim", bool, default=False, help="end every line with '!'"),)
    limits = {"max_shout_chars": 1_000_000}
    result_template = "shout_plugin:templates/shout.jinja2"
    static = "shout_plugin:static"
    stylesheets = ("shout.css",)

    def process(self, ctx):
        with ctx.step("Read", total=1) as step:
            text = ctx.path.read_text()
            if len(text) > ctx.limits.max_shout_chars:
                raise ProcessingError("too_large", f"The text has {len(text):,} characters; this server shouts at most "
                                                   f"{ctx.limits.max_shout_chars:,}.")
            step.advance()
        with ctx.step("Shout", total=1) as step:
            loud = text.upper()
            if ctx.options.get("exclaim"):
                loud = "\n".join(line + "!" if line else line for line in loud.split("\n"))
            ctx.artifact("shout.txt").write_text(loud)
            step.advance(message="done")
        return {"characters": len(text)}


@hookimpl
def jobs_register_processors():
    return [Shout()]
