from common.runtime import main
from services.billing.app import SERVICE

main(SERVICE)
