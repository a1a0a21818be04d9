from jwcore.runner.naming import basename, output_name, output_path


def test_suffix_replaces_known_suffix():
    assert output_name("jw01_00001_nrca1_uncal.fits", "rate") == "jw01_00001_nrca1_rate.fits"
    assert output_name("dir/jw01_nrca1_rate.fits", "cal") == "jw01_nrca1_cal.fits"
    assert output_name("jw01_nrca1_uncal.fits", "dq_init") == "jw01_nrca1_dq_init.fits"
    assert output_name("jw01_nrca1_dq_init.fits", "saturation") == "jw01_nrca1_saturation.fits"
    assert output_name("mosaic", "i2d") == "mosaic_i2d.fits"
    assert output_name("mosaic", "cat", ext=".ecsv") == "mosaic_cat.ecsv"


def test_unknown_suffix_is_kept():
    assert basename("jw01_nrca1_custom.fits") == "jw01_nrca1_custom"
    assert basename("jw01019001001_gs-acq1_2022117003102_uncal.fits") == "jw01019001001_gs-acq1_2022117003102"


def test_output_file_and_dir(tmp_path):
    p = output_path("in/jw01_nrca1_uncal.fits", "rate", output_dir=tmp_path, output_file="custom.fits")
    assert p == tmp_path / "custom_rate.fits"
