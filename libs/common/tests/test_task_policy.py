"""The task-policy contract: what a manager may send, refused by field when wrong."""
import pytest

from common import task_policy
from common.task_policy import TaskPolicyError, check


def test_a_valid_policy_comes_back_complete():
    got = check("Denial", {"sla_days": 5, "rules": [{"when": {"amount_gt": 800},
                                                     "priority": "Urgent"}]})
    assert got == {"sla_days": 5, "rules": [{"when": {"amount_gt": 800}, "priority": "Urgent"}],
                   "default_priority": "Routine", "open_when": None, "deadline_margin_days": 5}


@pytest.mark.parametrize("task_type, policy, problem", [
    ("Coffee", {"sla_days": 1}, "task_type: 'Coffee' is not one of Denial"),
    ("Denial", {"sla_days": 1, "rules": [{"when": {}, "priority": "High"},
                                         {"priority": "Whenever"}]}, "rules.1.priority"),
    ("Denial", {"sla_days": 1, "rules": [{"when": {"amount_over": 1}, "priority": "High"}]},
     "rules.0.when: 'amount_over' is not <fact>_<op>"),
    ("Denial", {"sla_days": "soon"}, "sla_days: Input should be a valid integer"),
    ("Denial", {"sla_days": 400}, "sla_days: Input should be less than or equal to 365"),
    ("Denial", {}, "sla_days: Field required"),
    ("Denial", {"sla_days": 1, "colour": "red"}, "colour: Extra inputs are not permitted"),
    ("Denial", {"sla_days": 1, "rules": [{"when": {"payer_id_eq": "a\x00b"}, "priority": "High"}]},
     "rules.0.when: text may not contain a NUL byte"),
    ("Denial", {"sla_days": 1, "rules": [{"when": {"payer_id_eq": "x" * 5_000_000},
                                          "priority": "High"}]},
     "rules.0.when: at most 4000 characters"),
    ("Denial", {"sla_days": 1, "open_when": {"a_in": [[[[["deep"]]]]]}},
     "open_when: nested more than 4 levels"),
    ("Denial", {"sla_days": 1, "rules": [{"when": {}, "priority": "High"}] * 101},
     "rules: List should have at most 100 items"),
])
def test_a_policy_that_cannot_work_is_refused_naming_the_field(task_type, policy, problem):
    with pytest.raises(TaskPolicyError) as exc:
        check(task_type, policy)
    assert problem in str(exc.value)
    assert len(str(exc.value)) < 1000  # never echoes a huge value back


def test_the_task_types_are_those_intake_opens():
    assert "Prior Auth" in task_policy.TASK_TYPES and len(task_policy.DEFAULTS) == 8
