from tests.api import Api


async def test_create_client_and_goal(api: Api) -> None:
    alice = api.actor()
    client = await api.client(alice)
    goal = await api.goal(alice, client["id"])
    assert goal["lifecycle_status"] == "proposed"
    assert goal["smart"]["passed"], goal["smart"]
