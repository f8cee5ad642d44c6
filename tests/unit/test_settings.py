import pytest
from headsup.handlers.settings import DetectorSettings
from headsup.platform.settings import SettingsError

VALID = {
    "BILLS_TABLE_NAME": "bills",
    "NOTICE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/notices",
    "BILL_INCREASE_PERCENT": "10",
    "BILL_INCREASE_MINIMUM": "5.00",
}


def test_settings_are_read_from_the_environment_names_the_template_sets() -> None:
    settings = DetectorSettings.from_env(VALID)
    assert (settings.bills_table_name, str(settings.increase_minimum)) == ("bills", "5.00")


def test_missing_or_invalid_setting_is_a_deployment_error_naming_the_variable() -> None:
    broken = {**VALID, "BILL_INCREASE_PERCENT": "ten"}
    del broken["NOTICE_QUEUE_URL"]
    with pytest.raises(SettingsError, match="NOTICE_QUEUE_URL: Field required") as caught:
        DetectorSettings.from_env(broken)
    assert "BILL_INCREASE_PERCENT" in str(caught.value)
