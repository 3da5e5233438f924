"""`ssd-course` (also `python -m ssd_course`): one entry point for students, instructors, graders.

Each subcommand lives in the module that does the work; that module defines
``add_arguments(parser)`` and ``run(args) -> exit code``. This file only wires
them up, so adding a command never means editing another command's code.
"""
import argparse
import importlib
import importlib.util
import sys
import warnings

# fastai's import warns (FutureWarning, on stderr) that torch.jit.script is deprecated:
# a library's note to library authors, noise in a course's output. Only that one is hidden.
warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)

# name: (module, one-line help). Modules load only when their command runs.
COMMANDS = {
    "data": ("ssd_course.tools.data", "make the synthetic dataset, or draw a batch of a dataset"),
    "demo": ("ssd_course.tools.demo", "train and evaluate the course's detector end to end"),
    "bench": ("ssd_course.tools.bench", "side-by-side benchmarks (loss, nms, grading, ...)"),
    "check": ("autograder.cli", "check your exercises against the public cases"),
    "grade": ("autograder.cli", "grade a submission folder (public + hidden cases)"),
    "grade-all": ("autograder.grade_all", "grade a class: one sheet, resumable, in shards "
                  "(`grade-all merge DIR...` joins them)"),
    "gradescope": ("autograder.gradescope", "write the Gradescope autograder zip (setup.sh, run_autograder)"),
    "release": ("ssd_course.tools.release", "write the student copy of the course"),
    "run-lessons": ("ssd_course.tools.lessons", "execute every lesson in a fresh kernel"),
    "nbgrader": ("ssd_course.tools.nbgrader_course", "write a ready nbgrader course directory"),
    "stubs": ("ssd_course.tools.stubs", "regenerate the student stubs from solutions/"),
}


# Commands for the instructor's repository: a student copy (no solutions/) does not list them.
INSTRUCTOR_ONLY = ("grade", "grade-all", "gradescope", "release", "run-lessons", "nbgrader", "stubs")


def _listed(name) -> bool:
    from ssd_course.impl import solutions_dir
    return name not in INSTRUCTOR_ONLY or solutions_dir() is not None


def _load(name):
    module, _ = COMMANDS[name]
    if importlib.util.find_spec(module) is None:          # a student copy leaves these modules out
        print(f"ssd-course {name}: an instructor's command; this copy of the course does not have it "
              f"(it runs in the instructor's repository)", file=sys.stderr)
        raise SystemExit(2)
    return importlib.import_module(module)


def _hook(mod, name, prefix):
    # A module serving several commands (autograder.cli) names them, e.g. run_grade.
    suffix = name.replace("-", "_")
    return getattr(mod, f"{prefix}_{suffix}", None) or getattr(mod, prefix)


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line on stderr (then exit 2).

    argparse prints the whole usage first, several lines for ``grade``, which bury the
    one line that says what is wrong; ``--help`` still shows the usage.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(command=None):
    parser = Parser(prog="ssd-course", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in COMMANDS.items():
        if not _listed(name) and name != command:
            continue                      # still runs when named (it then says what it needs)
        p = sub.add_parser(name, help=help_, description=help_)
        if name == command:  # only the chosen command's module is imported
            _hook(_load(name), name, "add_arguments")(p)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(_hook(_load(args.command), args.command, "run")(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
