from common.runtime import main
from services.payer_comms.app import SERVICE

main(SERVICE)
