"""FHIR R4's Bundle invariants (https://hl7.org/fhir/R4/bundle.html#invs), evaluated as the
spec writes them, in FHIRPath (fhirpathpy). fhir.resources checks structure, not these."""
import copy

from fhirpathpy import evaluate
from fhirpathpy.models import models

# hasValue() (bdl-10) is missing from fhirpathpy: a primitive with a value is a non-empty one.
OPTIONS = {"userInvocationTable": {"hasValue": {
    "fn": lambda inputs: [len(inputs) == 1 and inputs[0] is not None], "arity": {0: []}}}}

# Element-level rules (on Bundle.entry) are wrapped in entry.all(...). bdl-8 is R4B's
# corrected text (FHIR-25525): R4's `fullUrl.contains('/_history/').not()` is empty, so
# false, for an entry without fullUrl (a search's OperationOutcome).
BUNDLE_INVARIANTS = {
    "bdl-1": "total.empty() or (type = 'searchset') or (type = 'history')",
    "bdl-2": "entry.search.empty() or (type = 'searchset')",
    "bdl-3": "entry.all(request.exists() = (%resource.type = 'batch' or "
             "%resource.type = 'transaction' or %resource.type = 'history'))",
    "bdl-4": "entry.all(response.exists() = (%resource.type = 'batch-response' or "
             "%resource.type = 'transaction-response' or %resource.type = 'history'))",
    "bdl-5": "entry.all(resource.exists() or request.exists() or response.exists())",
    "bdl-7": "(type = 'history') or entry.where(fullUrl.exists())"
             ".select(fullUrl&resource.meta.versionId).isDistinct()",
    "bdl-8": "entry.all(fullUrl.exists() implies fullUrl.contains('/_history/').not())",
    "bdl-9": "type = 'document' implies (identifier.system.exists() and identifier.value.exists())",
    "bdl-10": "type = 'document' implies (timestamp.hasValue())",
    "bdl-11": "type = 'document' implies entry.first().resource.is(Composition)",
    "bdl-12": "type = 'message' implies entry.first().resource.is(MessageHeader)",
}


def broken_invariants(bundle: dict) -> list[str]:
    """The keys of the Bundle invariants this bundle (as JSON) breaks; [] when it conforms."""
    broken = []
    for key, expr in BUNDLE_INVARIANTS.items():
        data = copy.deepcopy(bundle)  # evaluate() annotates what it reads
        if evaluate(data, expr, {"resource": data}, models["r4"], OPTIONS) != [True]:
            broken.append(key)
    return broken
