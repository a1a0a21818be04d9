import json

import pytest

from jwcore.asn import from_list, load
from jwcore.errors import BadInputError


def _write(tmp_path, data, name="x_asn.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def _asn(members, rule="DMS_Level3_Base", asn_type="image3"):
    return {"asn_type": asn_type, "asn_rule": rule, "asn_id": "a3001", "asn_pool": "pool", "program": "01234",
            "products": [{"name": "jw01234-o001_t001_nircam_clear-f200w",
                          "members": [{"expname": m, "exptype": t} for m, t in members]}]}


def test_parse_level3_and_level2(tmp_path):
    a = load(_write(tmp_path, _asn([("a_cal.fits", "science"), ("b_cal.fits", "science")])))
    assert a.level == 3 and a.program == "01234"
    assert [m.expname for m in a.products[0].members] == ["a_cal.fits", "b_cal.fits"]
    assert a.member_path(a.products[0].members[0]) == (tmp_path / "a_cal.fits").resolve()
    b = load(_write(tmp_path, _asn([("a_rate.fits", "science"), ("bg_rate.fits", "background")],
                                   rule="DMS_Level2b_Base", asn_type="image2"), "l2_asn.json"))
    assert b.level == 2
    assert [m.expname for m in b.products[0].by_type("background")] == ["bg_rate.fits"]


@pytest.mark.parametrize("member", ["../outside_cal.fits", "/etc/passwd", "sub/../../x_cal.fits"])
def test_member_escaping_folder_is_refused(tmp_path, member):
    with pytest.raises(BadInputError, match="escapes|absolute"):
        load(_write(tmp_path, _asn([("a_cal.fits", "science"), (member, "science")])))


def test_symlink_escape_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x_cal.fits").write_bytes(b"")
    inside = tmp_path / "asn"
    inside.mkdir()
    (inside / "link_cal.fits").symlink_to(outside / "x_cal.fits")
    with pytest.raises(BadInputError, match="escapes"):
        load(_write(inside, _asn([("link_cal.fits", "science")])))


@pytest.mark.parametrize("content,msg", [
    ("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), (json.dumps({"asn_type": "image3"}), "no 'products'"),
    (json.dumps({"products": [{"name": "p"}]}), "no 'members'"),
    (json.dumps({"products": [{"name": "p", "members": [{"exptype": "science"}]}]}), "no 'expname'"),
])
def test_malformed(tmp_path, content, msg):
    with pytest.raises(BadInputError, match=msg):
        load(_write(tmp_path, content))


def test_from_list_round_trip(tmp_path):
    a = from_list(["a_cal.fits", "b_cal.fits"], product_name="mosaic")
    path = a.write(tmp_path / "m_asn.json")
    back = load(path)
    assert back.level == 3 and back.products[0].name == "mosaic"
    assert [m.expname for m in back.products[0].members] == ["a_cal.fits", "b_cal.fits"]
    l2 = from_list(["jw1_nrca1_rate.fits", "jw2_nrca1_rate.fits"], rule="DMS_Level2_Base")
    assert [p.name for p in l2.products] == ["jw1_nrca1", "jw2_nrca1"] and l2.level == 2
    with pytest.raises(BadInputError, match="product name"):
        from_list(["a_cal.fits"])


def test_jwst_reads_our_association(tmp_path):
    asn_mod = pytest.importorskip("jwst.associations")
    path = from_list(["a_cal.fits", "b_cal.fits"], product_name="mosaic").write(tmp_path / "m_asn.json")
    with open(path) as fh:
        loaded = asn_mod.load_asn(fh)
    assert loaded["products"][0]["name"] == "mosaic"
    assert [m["expname"] for m in loaded["products"][0]["members"]] == ["a_cal.fits", "b_cal.fits"]
