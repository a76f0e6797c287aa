from bankcrm_sdk.world import World


async def test_login_me_and_scope(world: World) -> None:
    client = await world.client("demo.bj.manager")
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body["branch_ids"]) == await world.subtree("BJ")


async def test_wrong_password_is_401_problem(world: World) -> None:
    client = world.anonymous_client()
    response = await client.post(
        "/api/v1/auth/login", json={"username": "demo.bj.manager", "password": "nope-nope-nope"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("invalid_credentials")
