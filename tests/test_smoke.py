def test_secretary_signs_in_and_lands_on_their_association(world, make_client):
    client = make_client(world.secretary_a1.login)
    response = client.get("/", follow_redirects=True)
    assert response.status_code == 200
    assert world.village_a1.name in response.text
