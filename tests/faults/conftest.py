"""`--soak N`: the fault soak's longer form, over N seeded schedules (its short form, one
schedule, runs in the e2e suite)."""


def pytest_addoption(parser) -> None:
    parser.addoption(
        "--soak",
        type=int,
        default=0,
        metavar="N",
        help="run the fault soak's longer form over N seeded schedules",
    )


def pytest_generate_tests(metafunc) -> None:
    if "soak" in metafunc.fixturenames:
        n = metafunc.config.getoption("soak")
        forms = [("long", seed) for seed in range(n)] if n else [("short", 0)]
        metafunc.parametrize("soak", forms, ids=[f"{form}-seed{seed}" for form, seed in forms])
