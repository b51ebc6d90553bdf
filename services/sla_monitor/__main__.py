from common.runtime import main
from services.sla_monitor.app import SERVICE

main(SERVICE)
