from common.runtime import main
from services.gateway.app import SERVICE

main(SERVICE)
